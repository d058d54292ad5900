/// <reference types="vite/client" />
/**
 * `convex-test` set-up shared by the Convex suites. The functions run as they do in production: the
 * component registered in an app that installs it (`register`, as any app's tests do), called
 * directly through the app's reference to it (`system`) or, for the store, through the functions
 * the app exposes to the web (`owlatSystem:query`/`owlatSystem:mutation`).
 */
import { convexTest } from 'convex-test'
import { getFunctionName, type GenericMutationCtx } from 'convex/server'
import type { DataModel } from '../../convex/component/_generated/dataModel'
import { register } from '../../convex/test'
import { components, internal } from '../../playground/convex/_generated/api'
import type { ConvexCaller } from '../../server/utils/store/convex'
import hostSchema from '../fixtures/host/convex/schema'

/** The standalone app's Convex functions (`_generated` included: convex-test finds the root by it). */
const appModules = import.meta.glob('../../playground/convex/**/*.*s')

/** The component as the standalone app installed it: `system.runs.open` and so on. */
export const system = components.owlatSystem

type ComponentCtx = GenericMutationCtx<DataModel>

/** convex-test runs a handler in a component's transaction this way; its type does not declare it. */
interface ComponentRunner {
  runInComponent<T>(componentPath: string, handler: (ctx: ComponentCtx) => Promise<T>): Promise<T>
}

export function newBackend() {
  const t = convexTest(undefined, appModules)
  register(t)
  return Object.assign(t, {
    /** Reads or writes the component's own tables directly, inside the component. */
    inComponent: <T>(handler: (ctx: ComponentCtx) => Promise<T>): Promise<T> =>
      (t as unknown as ComponentRunner).runInComponent('owlatSystem', handler),
  })
}

export type Backend = ReturnType<typeof newBackend>

/** The fixture host's Convex app: its own tables and functions, and the component installed beside them. */
const hostModules = import.meta.glob('../fixtures/host/convex/**/*.*s')

export function newHostBackend() {
  const t = convexTest(hostSchema, hostModules)
  register(t)
  return t
}

/**
 * The calls the HTTP caller makes in production (`owlatSystem:query` with the component function's
 * name and arguments), executed by convex-test through the app's functions.
 */
export function testCaller(t: Pick<Backend, 'query' | 'mutation'>, app: { owlatSystem: typeof internal.owlatSystem } = internal): ConvexCaller {
  return {
    query: (ref, args) => t.query(app.owlatSystem.query, { fn: getFunctionName(ref), args }),
    mutation: (ref, args) => t.mutation(app.owlatSystem.mutation, { fn: getFunctionName(ref), args }),
  }
}
