// @vitest-environment edge-runtime
/** The Convex store on the shared contract, its functions executed by convex-test. */
import { createConvexStore } from '../../server/utils/store/convex'
import { newBackend, testCaller } from '../convex/harness'
import { describeStoreContract } from './store-contract'

describeStoreContract('convex', async () => {
  const t = newBackend()
  return {
    store: createConvexStore(testCaller(t)),
    // Another adapter on the same deployment, as a second web process would have.
    other: () => createConvexStore(testCaller(t)),
    cleanup: async () => {},
  }
})
