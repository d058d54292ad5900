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

/**
 * True when the web server itself is away (connection refused, reset, or a gateway answering
 * for it): the expected state for a few seconds while the updater restarts it.
 */
export function isServerUnavailable(err: unknown): boolean {
  const status = httpStatusOf(err)
  return status === null || status === 502 || status === 503 || status === 504
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
