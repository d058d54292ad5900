/**
 * A web that has just started spends seconds in Node's module loader on its first render (Vue's
 * server renderer, Nuxt UI, the page's chunks) against tens of ms once warm. The server renders
 * the module's page once at start (server/plugins/warm-up.ts), and answers `healthz` and its
 * version only once that is done, so the updater's verify step counts a new web as verified
 * only when it is warm, and the page that reloads onto it never meets a cold server.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto'
import type { H3Event } from 'h3'

declare module 'h3' {
  interface H3EventContext {
    /** This request is the start's own warm-up render (server/middleware/warm-up.ts). */
    owlatWarmUp?: boolean
  }
}

let warm = false
let warming: Promise<void> | null = null

/**
 * Marks the start's own warm-up render of the admin page, so it renders what a signed-in admin
 * gets (the page's components, not only the sign-in redirect): a signed-in first render costs
 * ~450 ms more than a warm one, all of it in loading and first running the page's code. The
 * token never leaves this process (the render goes through `localFetch`), and the render carries
 * no session: every API read in it is refused as for anyone signed out, so it shows no data.
 */
const WARM_UP_TOKEN = randomBytes(32)
export const WARM_UP_HEADER = 'x-owlat-warm-up'

export function warmUpRequestHeaders(): Record<string, string> {
  return { [WARM_UP_HEADER]: WARM_UP_TOKEN.toString('hex') }
}

/** Whether this request is the start's own warm-up render (server/middleware/warm-up.ts). */
export function isWarmUpRequest(event: H3Event): boolean {
  const header = getRequestHeader(event, WARM_UP_HEADER)
  if (!header) return false
  // Hex decoding stops at the first character that is not hex: compare only equal lengths.
  const given = Buffer.from(header, 'hex')
  return given.length === WARM_UP_TOKEN.length && timingSafeEqual(given, WARM_UP_TOKEN)
}

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
