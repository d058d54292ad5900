// @vitest-environment edge-runtime
/**
 * The Convex store on the shared contract, its functions executed by convex-test: the component
 * registered in the standalone app and in the fixture host's app (next to the host's own tables),
 * reached through the functions each app exposes, as production reaches them.
 */
import { createConvexStore } from '../../server/utils/store/convex'
import { internal as hostInternal } from '../fixtures/host/convex/_generated/api'
import { newBackend, newHostBackend, testCaller } from '../convex/harness'
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
