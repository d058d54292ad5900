/**
 * An offline release bundle uploaded on the page (air-gapped installs), its bytes as the body
 * (application/octet-stream): streamed to a private temp file, never held in memory, and handed to
 * the updater, which verifies the whole file, loads its images and keeps the release, or keeps
 * nothing and says why. Then the release's files go into this web's release folder, the releases
 * are read again, and the admins are told of the new release as after "Check now".
 */
import { randomUUID } from 'node:crypto'
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import type { H3Event } from 'h3'
import { ensurePrivateDir } from '#layers/owlat-system/shared/node/private-files'
import { receiveToFile } from '#layers/owlat-system/shared/node/receive-file'
import { keepBundledRelease } from '#layers/owlat-system/shared/node/release-bundle'
import type { BundleImportResult, BundleUploadResult } from '#layers/owlat-system/shared/schemas/bundle'

/**
 * Answers end the connection: a refusal (signed out, too large) then stops the client sending
 * gigabytes nobody reads, instead of Node reading them to keep the connection alive.
 */
function closeAfterAnswer(event: H3Event): void {
  setResponseHeader(event, 'connection', 'close')
}

export default defineEventHandler({
  onRequest: [closeAfterAnswer],
  handler: async (event): Promise<BundleUploadResult> => {
    const user = await requirePlatformAdmin(event)
    const config = useOwlatConfig()
    if (config.releaseSource !== 'directory') throw createError({ statusCode: 409, statusMessage: 'Conflict', message: BUNDLE_SOURCE_REFUSAL })
    const type = getRequestHeader(event, 'content-type')?.split(';')[0]!.trim().toLowerCase()
    if (!type || !BINARY_UPLOADS['/api/system/bundles']!.includes(type)) {
      throw createError({ statusCode: 415, statusMessage: 'Unsupported Media Type', message: 'Send the bundle file itself as the body (Content-Type: application/octet-stream)' })
    }
    // Before a byte is read (receiveToFile also stops at the limit when no length is declared).
    const declared = Number(getRequestHeader(event, 'content-length') ?? 0)
    if (declared > config.bundleMaxBytes) throw bundleTooLarge(declared, config.bundleMaxBytes)

    const dir = bundleUploadDir(config)
    ensurePrivateDir(dir)
    const file = join(dir, `${randomUUID()}.tar`)
    try {
      await receiveToFile(event.node.req, file, config.bundleMaxBytes)
      let imported: BundleImportResult
      try {
        imported = await useSidecarBundles().importBundle(file)
      }
      catch (err) {
        throw bundleImportError(err)
      }
      try {
        keepBundledRelease(config.releaseDir, imported)
      }
      catch (err) {
        // The updater kept it, this folder did not: importing the bundle again (here or `owlat bundle import`) puts it there.
        throw createError({ statusCode: 500, statusMessage: 'Internal Server Error', message: `The updater took ${imported.version}, but the web could not keep it in ${config.releaseDir}: ${err instanceof Error ? err.message : String(err)}` })
      }
      const store = useStore()
      const { releases } = await refreshReleases(store, useReleaseSource())
      await store.recordReleaseImport?.({ userId: user.id, email: user.email }, { version: imported.version, images: imported.images.length, indexExpired: imported.indexExpired })
      await notifyNewRelease(releases)
      return { version: imported.version, images: imported.images, indexExpired: imported.indexExpired, releaseDir: config.releaseDir }
    }
    finally {
      rmSync(file, { force: true })
    }
  },
})
