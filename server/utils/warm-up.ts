/**
 * A web that has just started spends seconds in Node's module loader on its first render (Vue's
 * server renderer, Nuxt UI, the page's chunks) against tens of ms once warm. The server renders
 * the module's page once at start (server/plugins/warm-up.ts), and answers `healthz` and its
 * version only once that is done, so the updater's verify step counts a new web as verified
 * only when it is warm, and the page that reloads onto it never meets a cold server.
 */
import type { H3Event } from 'h3'

let warm = false
let warming: Promise<void> | null = null

/** Longest a start waits for its warm-up render before it answers anyway. */
export const WARM_UP_LIMIT_MS = 15_000

export function isWarm(): boolean {
  return warm
}

export function warmUp(render: () => Promise<unknown>): Promise<void> {
  warming ??= Promise.race([
    render().catch((err: unknown) => console.warn(`[warm-up] rendering the page failed: ${err instanceof Error ? err.message : String(err)}`)),
    new Promise(resolve => setTimeout(resolve, WARM_UP_LIMIT_MS).unref()),
  ]).then(() => {
    warm = true
  })
  return warming
}

/** For `healthz` and the version route: a 503 that says the server is still warming up. */
export function assertWarm(event: H3Event): void {
  if (warm) return
  setResponseHeader(event, 'Retry-After', 1)
  throw createError({ statusCode: 503, statusMessage: 'Service Unavailable', message: 'warming up: rendering the page once before answering' })
}
