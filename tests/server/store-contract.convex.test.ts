// @vitest-environment edge-runtime
/**
 * The Convex store on the shared contract, its functions executed by convex-test: the component
 * registered in the standalone app and in the fixture host's app (next to the host's own tables),
 * reached through the functions each app exposes, as production reaches them.
 */
import { describe, expect, it } from 'vitest'
import { createConvexStore } from '../../server/utils/store/convex'
import { internal as hostInternal } from '../fixtures/host/convex/_generated/api'
import { newBackend, newHostBackend, system, testCaller } from '../convex/harness'
import { describeStoreContract } from './store-contract'

describeStoreContract('convex (standalone app)', async () => {
  const t = newBackend()
  return {
    store: createConvexStore(testCaller(t)),
    // Another adapter on the same deployment, as a second web process would have.
    other: () => createConvexStore(testCaller(t)),
    cleanup: async () => {},
  }
})

describeStoreContract('convex (host app)', async () => {
  const t = newHostBackend()
  return {
    store: createConvexStore(testCaller(t, hostInternal)),
    other: () => createConvexStore(testCaller(t, hostInternal)),
    cleanup: async () => {},
  }
})

describe('convex store: the audit trail of what lives outside it', () => {
  it('records an imported offline bundle, naming the admin', async () => {
    const t = newBackend()
    const store = createConvexStore(testCaller(t))
    await store.recordReleaseImport!({ userId: 'u1', email: 'admin@example.com' }, { version: '1.3.5', images: 2, indexExpired: false })
    expect(await t.query(system.audit.list, { limit: 10 })).toEqual([
      { action: 'release.imported', actor: 'admin@example.com', runId: null, detail: 'imported 1.3.5 from an offline bundle (2 images loaded)', at: expect.any(Number) },
    ])
  })
})
