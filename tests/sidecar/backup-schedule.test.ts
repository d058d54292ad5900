/** OWLAT_BACKUP_AT: the daily scheduled backup's time (UTC) and when it is next due. */
import { describe, expect, it } from 'vitest'
import { backupScheduleFromEnv, nextBackupAt } from '../../sidecar/backups'
import { archiveFileName } from '../../shared/node/backups'

describe('scheduled backups', () => {
  it('reads HH:MM and refuses anything else, naming the variable', () => {
    expect(backupScheduleFromEnv({})).toBeNull()
    expect(backupScheduleFromEnv({ OWLAT_BACKUP_AT: ' 03:30 ' })).toBe('03:30')
    for (const bad of ['3:30', '24:00', '03:60', 'daily', '03:30:00']) {
      expect(() => backupScheduleFromEnv({ OWLAT_BACKUP_AT: bad }), bad).toThrow('invalid configuration: OWLAT_BACKUP_AT: must be HH:MM (UTC)')
    }
  })

  it('is due later today, or tomorrow once the time has passed', () => {
    const now = Date.UTC(2026, 11, 2, 3, 0)
    expect(new Date(nextBackupAt('03:30', now)).toISOString()).toBe('2026-12-02T03:30:00.000Z')
    expect(new Date(nextBackupAt('03:00', now)).toISOString()).toBe('2026-12-03T03:00:00.000Z')
    expect(new Date(nextBackupAt('00:15', Date.UTC(2026, 11, 31, 23, 59))).toISOString()).toBe('2027-01-01T00:15:00.000Z')
  })

  it('names archives by their UTC time, the undo with its suffix', () => {
    const at = new Date(Date.UTC(2026, 0, 2, 3, 4, 5))
    expect(archiveFileName(at, 'manual')).toBe('owlat-20260102-030405.tar.gz')
    expect(archiveFileName(at, 'scheduled')).toBe('owlat-20260102-030405.tar.gz')
    expect(archiveFileName(at, 'before-restore')).toBe('owlat-20260102-030405-before-restore.tar.gz')
  })
})
