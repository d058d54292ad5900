/**
 * Helpers to read what a failed `$fetch` (ofetch `FetchError`) carries without depending on
 * its class: the server answers `{ statusMessage, message }` on 4xx, nothing at all while it
 * restarts.
 */
interface FetchFailureShape {
  response?: unknown
  status?: unknown
  statusCode?: unknown
  data?: unknown
  message?: unknown
}

function asFailure(err: unknown): FetchFailureShape | null {
  return typeof err === 'object' && err !== null ? err as FetchFailureShape : null
}

/** The HTTP status of a failed request, or null when no response came back at all. */
export function httpStatusOf(err: unknown): number | null {
  const failure = asFailure(err)
  if (!failure) return null
  const status = failure.status ?? failure.statusCode
  return typeof status === 'number' && failure.response !== undefined ? status : null
}

/** The app's own message in an error answer (h3's `{ message }`), when it says more than the status text. */
function ownMessage(failure: FetchFailureShape): string | null {
  const data = failure.data
  if (typeof data !== 'object' || data === null) return null
  const body = data as { message?: unknown, statusMessage?: unknown }
  return typeof body.message === 'string' && body.message && body.message !== body.statusMessage ? body.message : null
}

/**
 * True when the web server itself is away (connection refused, reset, or a gateway or a
 * maintenance page answering for it): the expected state for a few seconds while the updater
 * restarts it. A 503 that carries the app's own message (the store is unreachable) is the app
 * answering, not the server being away.
 */
export function isServerUnavailable(err: unknown): boolean {
  const status = httpStatusOf(err)
  if (status === 503) return ownMessage(asFailure(err)!) === null
  return status === null || status === 502 || status === 504
}

/** A message fit for the page: the server's own `message` first, then its status text. */
export function apiErrorMessage(err: unknown, fallback = 'Something went wrong'): string {
  const failure = asFailure(err)
  if (!failure) return fallback
  if (isServerUnavailable(err)) return 'The server cannot be reached right now.'
  const data = failure.data
  if (typeof data === 'object' && data !== null) {
    const body = data as { message?: unknown, statusMessage?: unknown }
    if (typeof body.message === 'string' && body.message) return body.message
    if (typeof body.statusMessage === 'string' && body.statusMessage) return body.statusMessage
  }
  return typeof failure.message === 'string' && failure.message ? failure.message : fallback
}
