/**
 * One backup archive's bytes, streamed from the updater (the page's download link). Only a name
 * the updater lists passes: the name must match `owlat-YYYYMMDD-HHMMSS.tar.gz`, and the updater
 * answers 404 for any it does not keep. Platform admins only: the archive holds the `.env`.
 */
import { Readable } from 'node:stream'
import { z } from 'zod'
import { backupFileSchema } from '#layers/owlat-system/shared/schemas/backup'
import { SidecarRejectedError } from '../../../utils/sidecar'

const paramsSchema = z.object({ file: backupFileSchema })

export default defineEventHandler(async (event) => {
  await requirePlatformAdmin(event)
  const { file } = await getValidatedRouterParams(event, zodValidator(paramsSchema), { decode: true })
  let download
  try {
    download = await useSidecarBackups().downloadBackup(file)
  }
  catch (err) {
    if (err instanceof SidecarRejectedError && err.status === 404) throw createError({ statusCode: 404, statusMessage: 'Not Found', message: `No backup ${file}` })
    throw createError({ statusCode: 502, statusMessage: 'Bad Gateway', message: `The updater could not send ${file}: ${err instanceof Error ? err.message : String(err)}` })
  }
  setResponseHeader(event, 'Content-Type', 'application/gzip')
  setResponseHeader(event, 'Content-Disposition', `attachment; filename="${file}"`)
  setResponseHeader(event, 'Cache-Control', 'no-store')
  if (download.bytes !== null) setResponseHeader(event, 'Content-Length', download.bytes)
  return sendStream(event, Readable.fromWeb(download.stream as import('node:stream/web').ReadableStream<Uint8Array>))
})
