/**
 * A large request body (an offline release bundle) streamed to disk and hashed on the way, for
 * the updater's `POST /v1/bundles` and the web's upload alike: never held in memory, refused with
 * 413 past the limit (before a byte when the declared length says so). Node only.
 */
import { createHash } from 'node:crypto'
import { createWriteStream, rmSync } from 'node:fs'
import type { IncomingMessage } from 'node:http'
import { Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { createError } from 'h3'

function tooLarge(limit: number) {
  return createError({ statusCode: 413, message: `the upload is larger than the limit of ${limit} bytes (OWLAT_BUNDLE_MAX_BYTES)` })
}

/** Streams `req`'s body to `path`; rejects with 413 past `limit`, and removes what it wrote whenever it rejects. */
export async function receiveToFile(req: IncomingMessage, path: string, limit: number): Promise<{ sha256: string, size: number }> {
  const declared = Number(req.headers['content-length'] ?? 0)
  if (declared > limit) throw tooLarge(limit)
  const hash = createHash('sha256')
  let size = 0
  const meter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      size += chunk.length
      if (size > limit) return done(tooLarge(limit))
      hash.update(chunk)
      done(null, chunk)
    },
  })
  try {
    await pipeline(req, meter, createWriteStream(path, { mode: 0o600 }))
  }
  catch (err) {
    rmSync(path, { force: true })
    if ((err as { statusCode?: number }).statusCode) throw err
    throw createError({ statusCode: 400, message: 'the client closed the connection before the request body was complete' })
  }
  return { sha256: hash.digest('hex'), size }
}
