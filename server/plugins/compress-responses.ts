/**
 * Compresses what the server renders or answers (the page's HTML, JSON of the API) for clients
 * that accept it: brotli at a quality fit for per-request work, else gzip. Static assets are
 * precompressed at build time instead (`nitro.compressPublicAssets` in nuxt.config.ts) and
 * served as they are; streams (server-sent events) and small bodies are left alone.
 */
import { brotliCompressSync, constants, gzipSync } from 'node:zlib'
import type { H3Event } from 'h3'

/** Below this the headers outweigh what compression saves. */
const MIN_BYTES = 1024
/** Brotli's default (11) costs tens of ms per answer; 5 is about gzip's speed at a smaller size. */
const BROTLI_QUALITY = 5

function chooseEncoding(event: H3Event): 'br' | 'gzip' | null {
  const accepted = (getRequestHeader(event, 'accept-encoding') ?? '').toLowerCase()
  const offers = new Map(accepted.split(',').map((part) => {
    const [name, ...params] = part.trim().split(';')
    const q = params.map(p => /^\s*q=([\d.]+)\s*$/.exec(p)?.[1]).find(Boolean)
    return [name!.trim(), q === undefined ? 1 : Number(q)] as const
  }))
  if ((offers.get('br') ?? 0) > 0) return 'br'
  if ((offers.get('gzip') ?? 0) > 0) return 'gzip'
  return null
}

export default defineNitroPlugin((nitroApp) => {
  nitroApp.hooks.hook('beforeResponse', (event, response) => {
    const res = event.node.res
    if (event.method === 'HEAD' || res.headersSent || res.getHeader('content-encoding')) return
    if (res.statusCode === 204 || res.statusCode === 304) return
    // Nuxt's error handler renders the error page by an internal request carrying this header,
    // reads that answer as text and sends it on with its headers: compressing it here would send
    // compressed bytes, decoded as text, under `content-encoding`.
    if (getRequestHeader(event, 'x-nuxt-error')) return
    const body = response.body as unknown
    let text: string
    if (typeof body === 'string') {
      text = body
    }
    else if (body !== null && typeof body === 'object' && (Array.isArray(body) || Object.getPrototypeOf(body) === Object.prototype)) {
      // What h3 would send for a plain object: JSON.
      text = JSON.stringify(body)
      if (!res.getHeader('content-type')) res.setHeader('content-type', 'application/json')
    }
    else {
      return // streams, buffers, errors: sent as they are
    }
    // Whatever is sent, a cache must keep the encodings apart.
    res.setHeader('vary', [res.getHeader('vary'), 'Accept-Encoding'].filter(Boolean).join(', '))
    const encoding = Buffer.byteLength(text) >= MIN_BYTES ? chooseEncoding(event) : null
    if (!encoding) {
      response.body = text
      return
    }
    const raw = Buffer.from(text)
    response.body = encoding === 'br'
      ? brotliCompressSync(raw, { params: { [constants.BROTLI_PARAM_QUALITY]: BROTLI_QUALITY, [constants.BROTLI_PARAM_SIZE_HINT]: raw.length } })
      : gzipSync(raw)
    res.setHeader('content-encoding', encoding)
    res.removeHeader('content-length')
  })
})
