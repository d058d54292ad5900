/**
 * The page's Backups card: the archives the server lists (time, version, size, kind) with a
 * download link each, and why there are none when the updater cannot back up.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { SystemBackupList } from '#components'
import type { BackupArchive } from '../../shared/schemas/backup'
import { cleanUp, mount, serve } from './fixtures'

beforeEach(() => {
  useSystemStore().reset()
})

afterEach(cleanUp)

function anArchive(file: string, overrides: Partial<BackupArchive> = {}): BackupArchive {
  return { file, createdAt: Date.UTC(2026, 11, 1, 3, 30), bytes: 5 * 1024 * 1024, version: '1.2.2', sha256: 'a'.repeat(64), reason: 'scheduled', jobId: null, volumes: ['owlat_convex-data'], ...overrides }
}

describe('SystemBackupList', () => {
  it('lists the archives newest first with a download link each, and the retention', async () => {
    serve('/api/system/backups', () => ({
      backups: [
        anArchive('owlat-20261202-040000-before-restore.tar.gz', { reason: 'before-restore', version: '1.3.0', jobId: 'job-1', bytes: 2048 }),
        anArchive('owlat-20261201-033000.tar.gz'),
      ],
      keep: 5,
      supported: true,
      reason: null,
      schedule: '03:30',
    }))
    const wrapper = await mount(SystemBackupList)
    await vi.waitFor(() => expect(wrapper.findAll('[data-testid="backup-row"]')).toHaveLength(2))
    expect(wrapper.findAll('[data-testid="backup-row"]').map(r => r.attributes('data-file'))).toEqual([
      'owlat-20261202-040000-before-restore.tar.gz', 'owlat-20261201-033000.tar.gz',
    ])
    const links = wrapper.findAll('[data-testid="backup-download"]')
    expect(links.map(l => l.attributes('href'))).toEqual([
      '/api/system/backups/owlat-20261202-040000-before-restore.tar.gz', '/api/system/backups/owlat-20261201-033000.tar.gz',
    ])
    expect(links.every(l => l.attributes('download') !== undefined)).toBe(true)
    const text = wrapper.text()
    expect(text).toContain('2.0 KiB')
    expect(text).toContain('5.0 MiB')
    expect(text).toContain('before a restore')
    expect(text).toContain('1.3.0')
    expect(wrapper.find('[data-testid="backups-retention"]').text()).toBe('Keeping the newest 5 · daily at 03:30 UTC')
  })

  it('says why there are none when the updater cannot back up', async () => {
    serve('/api/system/backups', () => ({ backups: [], keep: 1, supported: false, reason: 'the local driver runs no data volumes, so there is nothing to back up or restore', schedule: null }))
    const wrapper = await mount(SystemBackupList)
    await vi.waitFor(() => expect(wrapper.find('[data-testid="backups-unsupported"]').exists()).toBe(true))
    expect(wrapper.find('[data-testid="backups-unsupported"]').text()).toBe('This updater cannot take backups: the local driver runs no data volumes, so there is nothing to back up or restore.')
    expect(wrapper.find('[data-testid="backups-table"]').exists()).toBe(false)
  })
})
