import { backupListSchema } from '#layers/owlat-system/shared/schemas/backup'

/** `GET /api/system/backups`: the updater's backup archives, read again whenever a run starts or ends (a restore adds one). */
export function useSystemBackups() {
  const { data, ...rest } = useSystemFetch('system-backups', '/api/system/backups', {
    parse: body => backupListSchema.parse(body),
    failure: 'Could not read the backups.',
  })
  return { backups: data, ...rest }
}
