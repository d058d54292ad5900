/**
 * Signed requests between the web/CLI and the sidecar (DESIGN.md, pinned):
 * X-Owlat-Signature = hex HMAC-SHA256(secret, `${timestamp}.${METHOD}.${path}.${sha256hex(body)}`).
 * Node only.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto'

export const TIMESTAMP_HEADER = 'x-owlat-timestamp'
export const SIGNATURE_HEADER = 'x-owlat-signature'
/** Signatures older (or further in the future) than this are refused. */
export const MAX_SKEW_MS = 60_000

function bodyHash(body: string | Uint8Array | undefined): string {
  return createHash('sha256').update(body ?? '').digest('hex')
}

export function computeSignature(secret: string, timestamp: string, method: string, path: string, body?: string | Uint8Array): string {
  return createHmac('sha256', secret)
    .update(`${timestamp}.${method.toUpperCase()}.${path}.${bodyHash(body)}`)
    .digest('hex')
}

/** Headers for one request. `path` includes the query string, exactly as sent. */
export function signRequest(opts: { secret: string, method: string, path: string, body?: string | Uint8Array, now?: number }): Record<string, string> {
  const timestamp = String(opts.now ?? Date.now())
  return {
    'X-Owlat-Timestamp': timestamp,
    'X-Owlat-Signature': computeSignature(opts.secret, timestamp, opts.method, opts.path, opts.body),
  }
}

/** Remembers signatures seen within the skew window so a captured request cannot be replayed. */
export class ReplayGuard {
  private seen = new Map<string, number>()
  constructor(private readonly windowMs = MAX_SKEW_MS * 2) {}

  /** True the first time a signature is seen; false for a replay. */
  remember(signature: string, now = Date.now()): boolean {
    for (const [sig, at] of this.seen) {
      if (now - at > this.windowMs) this.seen.delete(sig)
      else break // insertion order: the rest are newer
    }
    if (this.seen.has(signature)) return false
    this.seen.set(signature, now)
    return true
  }
}

export type VerifyRequestResult = { ok: true } | { ok: false, reason: string }

export function verifySignedRequest(opts: {
  secret: string
  method: string
  path: string
  body?: string | Uint8Array
  timestamp: string | undefined
  signature: string | undefined
  replay: ReplayGuard
  now?: number
}): VerifyRequestResult {
  const now = opts.now ?? Date.now()
  if (!opts.timestamp || !opts.signature) return { ok: false, reason: 'missing request signature' }
  if (!/^\d{1,16}$/.test(opts.timestamp)) return { ok: false, reason: 'malformed request timestamp' }
  if (Math.abs(now - Number(opts.timestamp)) > MAX_SKEW_MS) return { ok: false, reason: 'stale request signature (check the clocks)' }
  const expected = Buffer.from(computeSignature(opts.secret, opts.timestamp, opts.method, opts.path, opts.body), 'hex')
  const given = Buffer.from(opts.signature, 'hex')
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return { ok: false, reason: 'bad request signature (wrong instance secret?)' }
  }
  if (!opts.replay.remember(opts.signature, now)) return { ok: false, reason: 'replayed request signature' }
  return { ok: true }
}

/** A Node request as received (`http.IncomingMessage` fits). */
export interface IncomingRequestLike {
  method?: string
  url?: string
  headers: Record<string, string | string[] | undefined>
}

function firstHeader(req: IncomingRequestLike, name: string): string | undefined {
  const value = req.headers[name]
  return Array.isArray(value) ? value[0] : value
}

/** `verifySignedRequest` for a request as a Node server receives it: the signed path is its URL, query included. */
export function verifyIncomingRequest(req: IncomingRequestLike, body: string | Uint8Array | undefined, secret: string, replay: ReplayGuard): VerifyRequestResult {
  return verifySignedRequest({
    secret,
    method: req.method ?? 'GET',
    path: req.url ?? '/',
    body,
    timestamp: firstHeader(req, TIMESTAMP_HEADER),
    signature: firstHeader(req, SIGNATURE_HEADER),
    replay,
  })
}
