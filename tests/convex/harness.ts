/// <reference types="vite/client" />
/**
 * `convex-test` set-up shared by the Convex suites: the functions in `convex/` run against the
 * library's in-memory backend, and `testCaller` puts the store adapter on top of it.
 */
import { convexTest } from 'convex-test'
import type { FunctionReference } from 'convex/server'
import schema from '../../convex/schema'
import type { ConvexCaller } from '../../server/utils/store/convex'

/** Every file of `convex/`, `_generated` included: convex-test finds the modules' root by it. */
export const modules = import.meta.glob('../../convex/**/*.*s')

export function newBackend() {
  return convexTest(schema, modules)
}

export type Backend = ReturnType<typeof newBackend>

/**
 * The same calls the HTTP caller makes in production, executed by convex-test. The references
 * are widened because convex-test types its arguments as a rest tuple that TypeScript cannot
 * match against a generic reference; the adapter's own signature keeps the calls typed.
 */
export function testCaller(t: Backend): ConvexCaller {
  return {
    query: (ref, args) => t.query(ref as FunctionReference<'query', 'internal'>, args),
    mutation: (ref, args) => t.mutation(ref as FunctionReference<'mutation', 'internal'>, args),
  }
}
