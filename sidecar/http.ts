/** Small node:http helpers: bounded body reading and JSON answers (`{error}` for every failure). */
import type { IncomingMessage, ServerResponse } from 'node:http'

export const BODY_LIMIT_BYTES = 2 * 1024 * 1024

export class HttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message)
  }
}

/** Reads the whole body; rejects with 413 past `limit` instead of buffering without end. */
export function readBody(req: IncomingMessage, limit = BODY_LIMIT_BYTES): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0)
    if (declared > limit) {
      req.resume()
      reject(new HttpError(413, `request body is larger than ${limit} bytes`))
      return
    }
    const chunks: Buffer[] = []
    let size = 0
    const collect = (chunk: Buffer) => {
      size += chunk.length
      if (size > limit) {
        // Stop keeping it but let it drain, so the client still reads the 413.
        req.off('data', collect)
        req.resume()
        reject(new HttpError(413, `request body is larger than ${limit} bytes`))
        return
      }
      chunks.push(chunk)
    }
    req.on('data', collect)
    req.on('end', () => resolve(Buffer.concat(chunks)))
    req.on('error', reject)
  })
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body)
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' })
  res.end(text)
}

export function sendError(res: ServerResponse, status: number, error: string): void {
  if (res.headersSent) {
    res.destroy()
    return
  }
  sendJson(res, status, { error })
}
