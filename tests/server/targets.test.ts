import { describe, expect, it } from 'vitest'
import type { Release } from '../../shared/schemas/release'
import { checkTarget } from '../../server/utils/targets'

function rel(version: string, extra: Partial<Release> = {}): Release {
  return {
    version,
    channel: version.includes('-') ? 'beta' : 'stable',
    publishedAt: '2026-01-01T00:00:00Z',
    severity: 'normal',
    notes: '',
    notesHtml: '',
    migratesData: false,
    rollbackFloor: null,
    verified: true,
    verifyError: null,
    ...extra,
  }
}

const releases = [rel('1.2.2'), rel('1.2.3'), rel('1.3.0'), rel('1.4.0-beta.1'), rel('1.5.0', { verified: false, verifyError: 'bad signature' })]
const base = { currentVersion: '1.2.3', channel: 'stable' as const, releases }

describe('checkTarget for updates', () => {
  it('accepts a newer verified release on the channel', () => {
    expect(checkTarget({ ...base, kind: 'update', targetVersion: '1.3.0' })).toMatchObject({ ok: true, release: { version: '1.3.0' } })
  })

  it.each([
    ['9.9.9', /Unknown version 9\.9\.9/],
    ['1.2.3', /not newer than the running version 1\.2\.3/],
    ['1.2.2', /not newer/],
    ['1.4.0-beta.1', /pre-release; switch the update channel to beta/],
    ['1.5.0', /failed verification and cannot be installed: bad signature/],
  ])('refuses %s', (targetVersion, reason) => {
    const result = checkTarget({ ...base, kind: 'update', targetVersion })
    expect(result.ok).toBe(false)
    expect(!result.ok && result.reason).toMatch(reason)
  })

  it('offers pre-releases on the beta channel', () => {
    expect(checkTarget({ ...base, channel: 'beta', kind: 'update', targetVersion: '1.4.0-beta.1' }).ok).toBe(true)
  })

  it('refuses anything when the running version is not a release', () => {
    const result = checkTarget({ ...base, currentVersion: 'dev', kind: 'update', targetVersion: '1.3.0' })
    expect(!result.ok && result.reason).toMatch(/not a release version/)
  })
})

describe('checkTarget for rollbacks', () => {
  it('accepts an older verified release', () => {
    expect(checkTarget({ ...base, kind: 'rollback', targetVersion: '1.2.2' }).ok).toBe(true)
  })

  it('refuses the running or a newer version', () => {
    for (const targetVersion of ['1.2.3', '1.3.0']) {
      const result = checkTarget({ ...base, kind: 'rollback', targetVersion })
      expect(!result.ok && result.reason).toMatch(/not older than the running version/)
    }
  })

  it('refuses an unverified older release', () => {
    const list = [rel('1.2.2', { verified: false, verifyError: 'tampered' }), rel('1.2.3')]
    const result = checkTarget({ ...base, releases: list, kind: 'rollback', targetVersion: '1.2.2' })
    expect(!result.ok && result.reason).toMatch(/failed verification.*tampered/)
  })

  it('refuses to go below the rollback floor of a release that migrated data', () => {
    const list = [rel('1.2.2'), rel('1.2.3'), rel('1.3.0', { migratesData: true, rollbackFloor: '1.2.3' })]
    const current = { ...base, currentVersion: '1.3.0', releases: list }
    expect(checkTarget({ ...current, kind: 'rollback', targetVersion: '1.2.3' }).ok).toBe(true)
    const result = checkTarget({ ...current, kind: 'rollback', targetVersion: '1.2.2' })
    expect(!result.ok && result.reason).toMatch(/migrated data and cannot roll back below 1\.2\.3/)
  })
})
