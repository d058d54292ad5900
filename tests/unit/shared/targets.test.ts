import { describe, expect, it } from 'vitest'
import type { Release } from '../../../shared/schemas/release'
import type { Run } from '../../../shared/schemas/api'
import { checkRollbackTarget, checkTarget, rollbackCandidates, versionsRanHere } from '../../../shared/targets'

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

  it('offers a release whose signed manifest names the beta channel only on beta, whatever its version', () => {
    const withBeta = [...releases, rel('1.3.5', { channel: 'beta' })]
    const stable = checkTarget({ ...base, releases: withBeta, kind: 'update', targetVersion: '1.3.5' })
    expect(stable).toEqual({ ok: false, reason: '1.3.5 is published on the beta channel; switch the update channel to beta to install it' })
    expect(checkTarget({ ...base, releases: withBeta, channel: 'beta', kind: 'update', targetVersion: '1.3.5' }).ok).toBe(true)
    // Nor is it a rollback target on stable, unless this instance ran it.
    const rollback = checkTarget({ ...base, currentVersion: '1.4.0', releases: [...withBeta, rel('1.4.0')], kind: 'rollback', targetVersion: '1.3.5' })
    expect(!rollback.ok && rollback.reason).toMatch(/^1\.3\.5 is a beta-channel release this instance never ran/)
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

function run(id: string, fromVersion: string, toVersion: string, status: Run['status'], startedAt: number, extra: Partial<Run> = {}): Run {
  return {
    id,
    jobId: `job-${id}`,
    kind: 'update',
    fromVersion,
    toVersion,
    status,
    reason: null,
    requestedBy: { email: 'admin@example.com', via: 'web' },
    startedAt,
    endedAt: startedAt + 10,
    steps: [],
    ...extra,
  }
}

describe('rollbackCandidates', () => {
  const list = [
    rel('1.1.0'),
    rel('1.2.0', { migratesData: true, rollbackFloor: '1.2.0' }),
    rel('1.2.2'),
    rel('1.3.0'),
    rel('1.4.0-beta.1'),
  ]
  const at130 = { currentVersion: '1.3.0', channel: 'stable' as const, releases: list, backupsSupported: false }

  it('lists older releases newest first, disabling one below a migrating release\'s floor with the reason', () => {
    const candidates = rollbackCandidates({ ...at130, runs: [] })
    expect(candidates.map(c => [c.version, c.disabledReason])).toEqual([
      ['1.2.2', null],
      ['1.2.0', null],
      ['1.1.0', '1.2.0 migrated data and cannot roll back below 1.2.0'],
    ])
    expect(candidates[0]!.undoes.map(u => u.version)).toEqual(['1.3.0'])
    expect(candidates[2]!.undoes.map(u => u.version)).toEqual(['1.3.0', '1.2.2', '1.2.0'])
  })

  it('adds a version this instance ran even when the source no longer lists it, but refuses it with the reason', () => {
    const runs = [run('a', '1.0.5', '1.3.0', 'succeeded', 100)]
    const candidates = rollbackCandidates({ ...at130, runs })
    const gone = candidates.find(c => c.version === '1.0.5')!
    expect(gone).toMatchObject({ ranHereAt: 100, publishedAt: null })
    expect(gone.disabledReason).toMatch(/no longer lists 1\.0\.5/)
    expect(checkRollbackTarget({ ...at130, runs, targetVersion: '1.0.5' })).toMatchObject({ ok: false, reason: expect.stringMatching(/no longer lists/) })
  })

  it('offers a pre-release only on the beta channel or when this instance ran it', () => {
    const at140 = { ...at130, currentVersion: '1.4.0', releases: [...list, rel('1.4.0')] }
    expect(rollbackCandidates({ ...at140, runs: [] }).map(c => c.version)).not.toContain('1.4.0-beta.1')
    const ran = [run('b', '1.4.0-beta.1', '1.4.0', 'succeeded', 200)]
    expect(rollbackCandidates({ ...at140, runs: ran }).find(c => c.version === '1.4.0-beta.1')).toMatchObject({ disabledReason: null, ranHereAt: 200 })
    expect(checkRollbackTarget({ ...at140, runs: [], targetVersion: '1.4.0-beta.1' })).toMatchObject({ ok: false, reason: expect.stringMatching(/never ran; switch the update channel to beta/) })
  })

  it('offers the backup of the newest run that left the target, only when the driver restores data', () => {
    const runs = [
      run('old', '1.2.2', '1.2.3', 'succeeded', 100),
      run('new', '1.2.2', '1.3.0', 'succeeded', 300),
      run('failed', '1.2.2', '1.3.0', 'failed', 200),
    ]
    const jobBackups = new Map([
      ['job-old', { path: '/b/old', createdAt: 99, sizeBytes: 1 }],
      ['job-new', { path: '/b/new', createdAt: 299, sizeBytes: 2048 }],
    ])
    const offered = rollbackCandidates({ ...at130, runs, jobBackups, backupsSupported: true }).find(c => c.version === '1.2.2')!
    expect(offered.backup).toEqual({ runId: 'new', jobId: 'job-new', path: '/b/new', createdAt: 299, sizeBytes: 2048 })
    expect(rollbackCandidates({ ...at130, runs, jobBackups }).find(c => c.version === '1.2.2')!.backup).toBeNull()
    // The newest leaving run took no backup: an older one holds stale data, so none is offered.
    const stale = new Map([['job-old', { path: '/b/old', createdAt: 99, sizeBytes: 1 }]])
    expect(rollbackCandidates({ ...at130, runs, jobBackups: stale, backupsSupported: true }).find(c => c.version === '1.2.2')!.backup).toBeNull()
  })

  it('refuses a version never installed here nor released', () => {
    expect(checkRollbackTarget({ ...at130, runs: [], targetVersion: '1.0.0' })).toEqual({ ok: false, reason: 'Unknown version 1.0.0: it was never installed here nor released' })
  })
})

describe('versions a run through required upgrade stops ran here', () => {
  const commit = (hop: number, status: 'succeeded' | 'pending', endedAt: number | null) => ({ name: 'commit' as const, status, hop, startedAt: endedAt, endedAt, log: [], error: null })

  it('counts every hop that committed, even when a later hop was rolled back', () => {
    const through = run('a', '1.2.2', '1.3.1', 'rolled_back', 100, { path: ['1.3.0', '1.3.1'], steps: [commit(0, 'succeeded', 105), commit(1, 'pending', null)] })
    expect(versionsRanHere('1.3.0', [through])).toEqual(['1.3.0', '1.2.2'])
    const done = run('b', '1.2.2', '1.3.1', 'succeeded', 100, { path: ['1.3.0', '1.3.1'], steps: [commit(0, 'succeeded', 105), commit(1, 'succeeded', 109)] })
    expect(versionsRanHere('1.3.1', [done])).toEqual(['1.3.1', '1.3.0', '1.2.2'])
    // A stop that never committed did not run here.
    const stopped = run('c', '1.2.2', '1.3.1', 'failed', 100, { path: ['1.3.0', '1.3.1'], steps: [commit(0, 'pending', null)] })
    expect(versionsRanHere('1.2.2', [stopped])).toEqual(['1.2.2'])
  })
})
