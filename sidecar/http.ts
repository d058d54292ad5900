/**
 * The sidecar's HTTP limits: how much body each route may carry (read only once the signature
 * headers passed), and how long and how many connections a client may hold.
 */
import type { IncomingMessage } from 'node:http'
import { createError } from 'h3'

/** `POST /v1/bundles`: an offline release bundle, streamed to disk rather than held in memory. */
export const BUNDLE_PATH = '/v1/bundles'

/** `POST /v1/jobs`: a compose file and a manifest (each at most 1 MB) with their signatures; `POST /v1/checks`: a compose file. */
export const BODY_LIMIT_BYTES = 2 * 1024 * 1024

/** `POST /v1/restores` and `POST /v1/backups`: a file name and who asks. */
export const SMALL_BODY_LIMIT_BYTES = 4 * 1024

/** Every other route takes no body at all. */
export function bodyLimit(method: string, pathname: string): number {
  if (method !== 'POST') return 0
  if (pathname === '/v1/jobs' || pathname === '/v1/checks') return BODY_LIMIT_BYTES
  return pathname === '/v1/restores' || pathname === '/v1/backups' ? SMALL_BODY_LIMIT_BYTES : 0
}

export interface ServerLimits {
  /** The whole request, headers and body, must arrive within this (a response stream may last). */
  requestTimeoutMs: number
  /** The headers must arrive within this. */
  headersTimeoutMs: number
  /** Open connections at most; more are closed as they come. */
  maxConnections: number
  /** How often Node looks for requests past their timeouts. */
  checkIntervalMs: number
}

export const DEFAULT_LIMITS: ServerLimits = {
  requestTimeoutMs: 30_000,
  headersTimeoutMs: 10_000,
  // The web, the CLI and every open job stream of the page (one per admin watching) stay far below.
  maxConnections: 128,
  checkIntervalMs: 1000,
}

function tooLarge(limit: number) {
  return createError({ statusCode: 413, message: limit === 0 ? 'this route takes no request body' : `request body is larger than ${limit} bytes` })
}

/** Reads the whole body; rejects with 413 past `limit` instead of buffering without end. */
export function readBody(req: IncomingMessage, limit = BODY_LIMIT_BYTES): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0)
    if (declared > limit) {
      reject(tooLarge(limit))
      return
    }
    const chunks: Buffer[] = []
    let size = 0
    const collect = (chunk: Buffer) => {
      size += chunk.length
      if (size > limit) {
        // Stop keeping it; the refusal closes the connection.
        req.off('data', collect)
        reject(tooLarge(limit))
        return
      }
      chunks.push(chunk)
    }
    req.on('data', collect)
    req.on('end', () => resolve(Buffer.concat(chunks)))
    // A client that goes away mid-body is one line in the log, not a stack trace.
    req.on('error', () => reject(createError({ statusCode: 400, message: 'the client closed the connection before the request body was complete' })))
    req.on('aborted', () => reject(createError({ statusCode: 400, message: 'the client closed the connection before the request body was complete' })))
  })
}
