/**
 * What an app installs next to `app.use(owlatSystem)`: the two functions through which the web
 * server (Nitro, holding the deployment's admin key) reaches the component. A component's
 * functions can only be called by its app's functions, so the app forwards each call:
 *
 *   // convex/owlatSystem.ts (the web calls `owlatSystem:query` and `owlatSystem:mutation`)
 *   import { components } from './_generated/api'
 *   import { exposeOwlatSystem } from '<module>/convex/expose'
 *   export const { query, mutation } = exposeOwlatSystem(components.owlatSystem)
 *
 * Both are internal: only admin-key callers reach them, never a browser. They forward by name, so
 * an app needs no change when a later version of the component adds a function; the component's
 * own validators check every argument and return value.
 */
import { internalMutationGeneric, internalQueryGeneric, type FunctionReference } from 'convex/server'
import { ConvexError, v } from 'convex/values'
import type { ComponentApi } from './component/_generated/component'

/** `module:function` of a component function: `runs:open` (a nested module: `a/b:c`). */
const FUNCTION_NAME = /^[A-Za-z_]\w*(?:\/[A-Za-z_]\w*)*:[A-Za-z_]\w*$/

const callValidator = { fn: v.string(), args: v.record(v.string(), v.any()) }

/** The component's function `name` (`runs:open` → `component.runs.open`). */
function functionOf<Type extends 'query' | 'mutation'>(component: ComponentApi, name: string): FunctionReference<Type, 'internal'> {
  if (!FUNCTION_NAME.test(name)) throw new ConvexError({ code: 'BAD_FUNCTION_NAME', fn: name })
  const [modulePath, fn] = name.split(':') as [string, string]
  // The component's references are made on access (`componentsGeneric`), so any path yields one;
  // Convex refuses the call when the component has no such function.
  let ref: unknown = component
  for (const part of [...modulePath.split('/'), fn]) ref = (ref as Record<string, unknown>)[part]
  return ref as FunctionReference<Type, 'internal'>
}

export function exposeOwlatSystem(component: ComponentApi) {
  return {
    query: internalQueryGeneric({
      args: callValidator,
      returns: v.any(),
      handler: (ctx, { fn, args }): Promise<unknown> => ctx.runQuery(functionOf<'query'>(component, fn), args),
    }),
    mutation: internalMutationGeneric({
      args: callValidator,
      returns: v.any(),
      handler: (ctx, { fn, args }): Promise<unknown> => ctx.runMutation(functionOf<'mutation'>(component, fn), args),
    }),
  }
}
