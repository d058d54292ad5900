/**
 * The backup archives the updater keeps (`owlat backup --list`): time, size, version, with their
 * retention and schedule, for the page's list. Platform admins only.
 */
import type { BackupList } from '#layers/owlat-system/shared/schemas/backup'

export default defineEventHandler(async (event): Promise<BackupList> => {
  await requirePlatformAdmin(event)
  try {
    return await useSidecarBackups().listBackups()
  }
  catch (err) {
    throw createError({ statusCode: 502, statusMessage: 'Bad Gateway', message: `The updater could not list the backups: ${err instanceof Error ? err.message : String(err)}` })
  }
})
