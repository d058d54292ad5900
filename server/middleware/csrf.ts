// Every state-changing /api/ request: JSON only, and from the app's own origin (server/utils/csrf.ts).
export default defineEventHandler((event) => {
  if (SAFE_METHODS.has(event.method)) return
  const url = getRequestURL(event)
  const verdict = judgeCrossSite({
    method: event.method,
    pathname: url.pathname,
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
})
