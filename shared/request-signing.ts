/**
 * Signed requests between the web/CLI and the sidecar, and from the sidecar to the web
 * (DESIGN.md, pinned): `X-Owlat-Timestamp` (unix ms), `X-Owlat-Nonce` (128 random bits, 32
 * lowercase hex) and `X-Owlat-Signature` = hex HMAC-SHA256(secret,
 * `${timestamp}.${nonce}.${METHOD}.${path}.${sha256hex(body)}`). The nonce tells apart identical
 * requests signed in the same millisecond (concurrent reads, several web replicas); a replayed
 * signature is refused all the same. A request without the nonce header is checked against the
 * form before it, `${timestamp}.${METHOD}.${path}.${sha256hex(body)}`, which updaters and webs
 * older than the nonce send (a rollback may land on one). Node only.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto'

export const TIMESTAMP_HEADER = 'x-owlat-timestamp'
export const NONCE_HEADER = 'x-owlat-nonce'
export const SIGNATURE_HEADER = 'x-owlat-signature'
/** Signatures older (or further in the future) than this are refused. */
export const MAX_SKEW_MS = 60_000

/** The one spelling of a signature: anything else (upper case, trailing bytes) is refused, so one request has one signature. */
const CANONICAL_SIGNATURE = /^[0-9a-f]{64}$/
const CANONICAL_NONCE = /^[0-9a-f]{32}$/

/** A request body, or the sha256 of one too large to hold in memory (a release bundle, streamed). */
export type SignedBody = string | Uint8Array | { sha256: string }

function bodyHash(body: SignedBody | undefined): string {
  if (typeof body === 'object' && 'sha256' in body) return body.sha256
  return createHash('sha256').update(body ?? '').digest('hex')
}

/** `nonce` null: the form without a nonce. */
export function computeSignature(secret: string, timestamp: string, nonce: string | null, method: string, path: string, body?: SignedBody): string {
  const signed = nonce === null
    ? `${timestamp}.${method.toUpperCase()}.${path}.${bodyHash(body)}`
    : `${timestamp}.${nonce}.${method.toUpperCase()}.${path}.${bodyHash(body)}`
  return createHmac('sha256', secret).update(signed).digest('hex')
}

export function newNonce(): string {
  return randomBytes(16).toString('hex')
}

let lastLegacyTimestamp = 0

/**
 * Headers for one request. `path` includes the query string, exactly as sent. `nonce: false`
 * signs without a nonce, for peers older than it; such requests get strictly increasing
 * timestamps, so this process never signs two of them alike.
 */
export function signRequest(opts: { secret: string, method: string, path: string, body?: SignedBody, now?: number, nonce?: string | false }): Record<string, string> {
  if (opts.nonce === false) {
    lastLegacyTimestamp = Math.max(opts.now ?? Date.now(), lastLegacyTimestamp + 1)
    const timestamp = String(opts.now ?? lastLegacyTimestamp)
    return {
      'X-Owlat-Timestamp': timestamp,
      'X-Owlat-Signature': computeSignature(opts.secret, timestamp, null, opts.method, opts.path, opts.body),
    }
  }
  const timestamp = String(opts.now ?? Date.now())
  const nonce = opts.nonce ?? newNonce()
  return {
    'X-Owlat-Timestamp': timestamp,
    'X-Owlat-Nonce': nonce,
    'X-Owlat-Signature': computeSignature(opts.secret, timestamp, nonce, opts.method, opts.path, opts.body),
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

/**
 * What can be judged of the signing headers alone: present, well-formed, fresh. A server checks
 * this before it reads a byte of the body, so an unsigned request costs it nothing.
 */
export function checkSignatureHeaders(opts: { timestamp: string | undefined, signature: string | undefined, nonce?: string | undefined, now?: number }): VerifyRequestResult {
  const now = opts.now ?? Date.now()
  if (!opts.timestamp || !opts.signature) return { ok: false, reason: 'missing request signature' }
  if (!/^\d{1,16}$/.test(opts.timestamp)) return { ok: false, reason: 'malformed request timestamp' }
  if (opts.nonce !== undefined && !CANONICAL_NONCE.test(opts.nonce)) return { ok: false, reason: 'malformed request nonce (32 lowercase hex characters)' }
  if (!CANONICAL_SIGNATURE.test(opts.signature)) return { ok: false, reason: 'malformed request signature (64 lowercase hex characters)' }
  if (Math.abs(now - Number(opts.timestamp)) > MAX_SKEW_MS) return { ok: false, reason: 'stale request signature (check the clocks)' }
  return { ok: true }
}

export function verifySignedRequest(opts: {
  secret: string
  method: string
  path: string
  body?: SignedBody
  timestamp: string | undefined
  signature: string | undefined
  /** Absent for requests signed without a nonce. */
  nonce?: string | undefined
  replay: ReplayGuard
  now?: number
}): VerifyRequestResult {
  const now = opts.now ?? Date.now()
  const form = checkSignatureHeaders({ ...opts, now })
  if (!form.ok) return form
  const expected = Buffer.from(computeSignature(opts.secret, opts.timestamp!, opts.nonce ?? null, opts.method, opts.path, opts.body), 'hex')
  const given = Buffer.from(opts.signature!, 'hex')
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return { ok: false, reason: 'bad request signature (wrong instance secret?)' }
  }
  if (!opts.replay.remember(opts.signature!, now)) return { ok: false, reason: 'replayed request signature' }
  return { ok: true }
}

/** Reads a request header by its lower-case name (the first value of a repeated one). */
export type HeaderReader = (name: string) => string | undefined

/** Whether the request carries any of the signing headers (the web then refuses to fall back to a session). */
export function hasSignatureHeaders(header: HeaderReader): boolean {
  return [TIMESTAMP_HEADER, NONCE_HEADER, SIGNATURE_HEADER].some(name => header(name) !== undefined)
}

/** `checkSignatureHeaders` on a request's headers. */
export function checkRequestSignatureHeaders(header: HeaderReader, now?: number): VerifyRequestResult {
  return checkSignatureHeaders({ timestamp: header(TIMESTAMP_HEADER), nonce: header(NONCE_HEADER), signature: header(SIGNATURE_HEADER), now })
}

/** `verifySignedRequest` with the signing headers read from the request: every server (sidecar, web, test fakes) checks this way. */
export function verifyRequestHeaders(opts: {
  header: HeaderReader
  method: string
  /** The request target exactly as received, query included. */
  path: string
  body: SignedBody | undefined
  secret: string
  replay: ReplayGuard
  /** When the headers arrived (a body streamed for minutes is judged by then); default now. */
  now?: number
}): VerifyRequestResult {
  return verifySignedRequest({
    now: opts.now,
    secret: opts.secret,
    method: opts.method,
    path: opts.path,
    body: opts.body,
    timestamp: opts.header(TIMESTAMP_HEADER),
    nonce: opts.header(NONCE_HEADER),
    signature: opts.header(SIGNATURE_HEADER),
    replay: opts.replay,
  })
}

/** A Node request as received (`http.IncomingMessage` fits). */
export interface IncomingRequestLike {
  method?: string
  url?: string
  headers: Record<string, string | string[] | undefined>
}

/** `verifyRequestHeaders` for a request as a bare Node server receives it (the test fakes). */
export function verifyIncomingRequest(req: IncomingRequestLike, body: string | Uint8Array | undefined, secret: string, replay: ReplayGuard): VerifyRequestResult {
  return verifyRequestHeaders({
    header: (name) => {
      const value = req.headers[name]
      return Array.isArray(value) ? value[0] : value
    },
    method: req.method ?? 'GET',
    path: req.url ?? '/',
    body,
    secret,
    replay,
  })
}
