/** Applying the cross-site rules (csrf.ts) to a request, for the module's and the app's middleware. */
import type { H3Event } from 'h3'

/** Refuses the request (403/415) when `judgeCrossSite` does; for a server middleware. */
export function guardCrossSite(event: H3Event, guarded: readonly string[]): void {
  if (SAFE_METHODS.has(event.method)) return
  const url = getRequestURL(event)
  const verdict = judgeCrossSite({
    method: event.method,
    pathname: url.pathname,
    guarded,
    contentType: getRequestHeader(event, 'content-type'),
    contentLength: getRequestHeader(event, 'content-length'),
    transferEncoding: getRequestHeader(event, 'transfer-encoding'),
    origin: getRequestHeader(event, 'origin'),
    secFetchSite: getRequestHeader(event, 'sec-fetch-site'),
    allowedOrigins: useOwlatConfig().origins ?? [url.origin],
  })
  if (!verdict.ok) {
    const statusMessage = verdict.statusCode === 403 ? 'Forbidden' : 'Unsupported Media Type'
    throw createError({ statusCode: verdict.statusCode, statusMessage, message: verdict.message })
  }
}
