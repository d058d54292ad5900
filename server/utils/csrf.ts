/**
 * Cross-site request forgery: a browser sends the session cookie (SameSite=Lax) with requests
 * from any same-site page, another port or a sibling subdomain included, and an HTML form needs
 * no script. So every state-changing API request must be JSON (a form can only send
 * urlencoded, multipart or text/plain), or a file upload whose type no form can send either (a
 * route in `BINARY_UPLOADS`), and, when the browser says where it comes from
 * (`Origin`, `Sec-Fetch-Site`), come from the app's own origin. Clients that are not browsers
 * send neither header and are not at risk. The module guards its own routes
 * (server/middleware/csrf.ts); the standalone app all of `/api/` (its sign-in included).
 * Framework-independent, so it is unit-testable; `guardCrossSite` (csrf-guard.ts) applies it.
 */

export const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS'])

/** The module's own API: what its middleware guards in any host. */
export const MODULE_API_PREFIXES: readonly string[] = ['/api/system/', '/api/owlat-system/']

/**
 * Routes whose body is a file rather than JSON (the page's offline bundle upload), with the types
 * they take. Neither type is one a form can send, and another origin's script sending one needs a
 * CORS preflight this app never grants: as safe from forgery as JSON.
 */
export const BINARY_UPLOADS: Readonly<Record<string, readonly string[]>> = {
  '/api/system/bundles': ['application/octet-stream', 'application/x-tar'],
}

export interface CrossSiteInput {
  method: string
  pathname: string
  /** Path prefixes whose state-changing requests are judged; anything else passes. */
  guarded: readonly string[]
  contentType: string | undefined
  contentLength: string | undefined
  transferEncoding: string | undefined
  origin: string | undefined
  secFetchSite: string | undefined
  /** The origins the app is served from: OWLAT_ORIGIN, or the address the request came to. */
  allowedOrigins: readonly string[]
}

export type CrossSiteVerdict = { ok: true } | { ok: false, statusCode: 403 | 415, message: string }

function mediaType(contentType: string): string {
  return contentType.split(';')[0]!.trim().toLowerCase()
}

function isJson(contentType: string): boolean {
  const type = mediaType(contentType)
  return type === 'application/json' || /^application\/[\w.+-]+\+json$/.test(type)
}

/** A file upload to a route that takes one (`BINARY_UPLOADS`), of a type it takes. */
function isBinaryUpload(pathname: string, contentType: string): boolean {
  return Object.hasOwn(BINARY_UPLOADS, pathname) && BINARY_UPLOADS[pathname]!.includes(mediaType(contentType))
}

export function judgeCrossSite(input: CrossSiteInput): CrossSiteVerdict {
  if (SAFE_METHODS.has(input.method.toUpperCase()) || !input.guarded.some(prefix => input.pathname.startsWith(prefix))) return { ok: true }
  if (input.origin !== undefined && !input.allowedOrigins.includes(input.origin)) {
    return { ok: false, statusCode: 403, message: `Cross-origin request refused: ${input.origin === 'null' ? 'an opaque origin' : input.origin} is not this app's origin (set OWLAT_ORIGIN when a proxy serves it elsewhere)` }
  }
  // `none` is the user's own navigation; anything but the same origin is another page's doing.
  if (input.secFetchSite !== undefined && !['same-origin', 'none'].includes(input.secFetchSite.toLowerCase())) {
    return { ok: false, statusCode: 403, message: `Cross-site request refused (Sec-Fetch-Site: ${input.secFetchSite})` }
  }
  if (input.contentType !== undefined) {
    if (!isJson(input.contentType) && !isBinaryUpload(input.pathname, input.contentType)) return { ok: false, statusCode: 415, message: `Requests that change anything must be JSON, not ${input.contentType.split(';')[0]!.trim()}` }
    return { ok: true }
  }
  // No content type: only a request without a body (a form always sends one).
  const hasBody = input.transferEncoding !== undefined || (input.contentLength !== undefined && input.contentLength.trim() !== '0')
  if (hasBody) return { ok: false, statusCode: 415, message: 'Requests that change anything must be JSON (Content-Type: application/json)' }
  return { ok: true }
}
