/// <reference types="vite/client" />
/**
 * Registers the component with a `convex-test` instance, as an app's tests do for any installed
 * component: `const system = register(t)` after `const t = convexTest(appSchema, appModules)`.
 */
import type { TestConvex } from 'convex-test'
import type { GenericSchema, SchemaDefinition } from 'convex/server'
import type { ComponentApi } from './component/_generated/component'
import schema from './component/schema'

/** Every file of the component, `_generated` included: convex-test finds the modules' root by it. */
const modules = import.meta.glob('./component/**/*.ts')

/** `name`: the component's name in the app (`app.use(owlatSystem)` names it `owlatSystem`). */
export function register(t: TestConvex<SchemaDefinition<GenericSchema, boolean>>, name = 'owlatSystem'): ComponentApi {
  return t.registerComponent<ComponentApi>(name, schema, modules)
}

export default { register, schema, modules }
