/** Reading a request body with a bound: h3's own reader takes whatever arrives. */
import type { IncomingMessage } from 'node:http'
import { createError } from 'h3'

export const BODY_LIMIT_BYTES = 2 * 1024 * 1024

function tooLarge(limit: number) {
  return createError({ statusCode: 413, message: `request body is larger than ${limit} bytes` })
}

/** Reads the whole body; rejects with 413 past `limit` instead of buffering without end. */
export function readBody(req: IncomingMessage, limit = BODY_LIMIT_BYTES): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0)
    if (declared > limit) {
      req.resume()
      reject(tooLarge(limit))
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
        reject(tooLarge(limit))
        return
      }
      chunks.push(chunk)
    }
    req.on('data', collect)
    req.on('end', () => resolve(Buffer.concat(chunks)))
    req.on('error', reject)
  })
}
