/**
 * Issue 13, defect 2: a release that failed on this instance is marked, never offered again by
 * itself, and installed again only when asked for explicitly; and defect 6: "Roll back…" says
 * why it has nothing to offer, in words true to what this instance ran.
 */
import { describe, expect, it } from 'vitest'
import type { Release } from '../../../shared/schemas/release'
import type { RunStatus } from '../../../shared/run-state'
import { checkTarget, failedReleases, rollbackAvailability, rollbackCandidates, runRecordsOfJobs, type RunRecord } from '../../../shared/targets'

function rel(version: string): Release {
  return {
    version, channel: version.includes('-') ? 'beta' : 'stable', publishedAt: '2026-01-01T00:00:00Z', severity: 'normal',
    notes: '', notesHtml: '', migratesData: false, rollbackFloor: null, verified: true, verifyError: null,
  }
}

let clock = 0
function run(toVersion: string, status: RunStatus, steps: Array<[string, string]> = [], extra: Partial<RunRecord> = {}): RunRecord {
  clock += 1000
  return {
    id: `run-${clock}`, jobId: `job-${clock}`, fromVersion: '1.3.0', toVersion, status, startedAt: clock, endedAt: clock + 500,
    reason: status === 'succeeded' ? null : `${status} for a reason`,
    steps: steps.map(([name, s]) => ({ name, status: s })), ...extra,
  }
}

const releases = [rel('1.2.2'), rel('1.2.3'), rel('1.3.0'), rel('1.4.0-beta.1')]
const beta = { currentVersion: '1.3.0', channel: 'beta' as const, releases }

describe('failedReleases', () => {
  it('marks a release whose run was rolled back, with the run\'s id (its job\'s), time and reason', () => {
    const rolledBack = run('1.4.0-beta.1', 'rolled_back', [['verify', 'failed'], ['restore', 'succeeded']])
    expect(failedReleases([rolledBack])).toEqual([{
      version: '1.4.0-beta.1', runId: rolledBack.jobId, status: 'rolled_back', endedAt: rolledBack.endedAt, reason: 'rolled_back for a reason',
    }])
  })

  it('marks a failure once the stack was changed (the restore failed too), not one that stopped before promote', () => {
    const broke = run('1.4.0-beta.1', 'failed', [['promote', 'succeeded'], ['verify', 'failed'], ['restore', 'failed']])
    const stopped = run('1.3.1', 'failed', [['preflight', 'failed'], ['promote', 'pending']])
    expect(failedReleases([broke, stopped]).map(f => f.version)).toEqual(['1.4.0-beta.1'])
  })

  it('is cleared by a later success, and not by a later failure that never ran the release', () => {
    const first = run('1.4.0-beta.1', 'rolled_back')
    const notRun = run('1.4.0-beta.1', 'failed', [['preflight', 'failed']])
    expect(failedReleases([first, notRun]).map(f => f.runId)).toEqual([first.jobId])
    const success = run('1.4.0-beta.1', 'succeeded')
    expect(failedReleases([first, notRun, success])).toEqual([])
    expect(failedReleases([success, run('1.4.0-beta.1', 'rolled_back')])).toHaveLength(1)
  })

  it('ignores rehearsals: they ran the release on a copy, not here', () => {
    const rehearsed = run('1.4.0-beta.1', 'failed', [['verify', 'failed'], ['teardown', 'succeeded']], { kind: 'rehearsal' })
    expect(failedReleases([rehearsed])).toEqual([])
    expect(checkTarget({ kind: 'update', targetVersion: '1.4.0-beta.1', ...beta, runs: [rehearsed] }).ok).toBe(true)
    // A rehearsal of a release that failed here is allowed: it is how an admin finds out whether it would hold now.
    const rolledBack = run('1.4.0-beta.1', 'rolled_back', [['verify', 'failed'], ['restore', 'succeeded']])
    expect(checkTarget({ kind: 'update', targetVersion: '1.4.0-beta.1', ...beta, runs: [rolledBack] }).ok).toBe(false)
    expect(checkTarget({ kind: 'rehearsal', targetVersion: '1.4.0-beta.1', ...beta, runs: [rolledBack] }).ok).toBe(true)
    expect(checkTarget({ kind: 'rehearsal', targetVersion: '1.3.0', ...beta, runs: [] })).toMatchObject({ ok: false, reason: '1.3.0 is not newer than the running version 1.3.0' })
  })

  it('reads the updater\'s jobs the same way (the CLI and the updater\'s admission)', () => {
    const jobs = [{ id: 'j1', fromVersion: '1.3.0', toVersion: '1.4.0-beta.1', status: 'rolled_back' as const, createdAt: 1, startedAt: 2, endedAt: 3, reason: 'verify failed', steps: [] }]
    expect(failedReleases(runRecordsOfJobs(jobs))).toEqual([{ version: '1.4.0-beta.1', runId: 'j1', status: 'rolled_back', endedAt: 3, reason: 'verify failed' }])
  })
})

describe('checkTarget and a release that failed here', () => {
  const runs = [run('1.4.0-beta.1', 'rolled_back')]

  it('refuses it without "try again anyway", saying which run failed, and allows it with', () => {
    const refused = checkTarget({ ...beta, kind: 'update', targetVersion: '1.4.0-beta.1', runs })
    expect(refused.ok).toBe(false)
    expect(!refused.ok && refused.reason).toMatch(/^1\.4\.0-beta\.1 already failed on this instance \(run job-\d+, rolled back: rolled_back for a reason\); installing it again must be asked for explicitly/)
    expect(!refused.ok && refused.failedHere?.version).toBe('1.4.0-beta.1')
    expect(checkTarget({ ...beta, kind: 'update', targetVersion: '1.4.0-beta.1', runs, retryFailed: true }).ok).toBe(true)
  })

  it('keeps every other target as it was', () => {
    expect(checkTarget({ ...beta, currentVersion: '1.2.2', kind: 'update', targetVersion: '1.3.0', runs }).ok).toBe(true)
  })

  it('marks a rollback candidate that failed here, without disabling it', () => {
    const toOld = run('1.2.3', 'rolled_back', [], { fromVersion: '1.3.0' })
    const candidate = rollbackCandidates({ ...beta, runs: [toOld], backupsSupported: false }).find(c => c.version === '1.2.3')
    expect(candidate).toMatchObject({ disabledReason: null, failedHere: { version: '1.2.3', runId: toOld.jobId } })
    expect(checkTarget({ ...beta, kind: 'rollback', targetVersion: '1.2.3', runs: [toOld] }).ok).toBe(false)
    expect(checkTarget({ ...beta, kind: 'rollback', targetVersion: '1.2.3', runs: [toOld], retryFailed: true }).ok).toBe(true)
  })
})

describe('rollbackAvailability', () => {
  it('is available when a version can be chosen', () => {
    expect(rollbackAvailability({ ...beta, runs: [] })).toEqual({ available: true, reason: null })
  })

  it('names the only version a fresh instance ran', () => {
    expect(rollbackAvailability({ currentVersion: '1.2.2', channel: 'stable', releases, runs: [] })).toEqual({
      available: false,
      reason: 'No earlier version to roll back to: this instance has only run 1.2.2, and the release source lists no older release.',
    })
  })

  it('names every version it ran when none is older (never "ran no other version")', () => {
    const there = run('1.3.0', 'succeeded', [], { fromVersion: '1.2.2' })
    const back = run('1.2.2', 'succeeded', [], { fromVersion: '1.3.0' })
    expect(rollbackAvailability({ currentVersion: '1.2.2', channel: 'stable', releases, runs: [there, back] }).reason)
      .toBe('No earlier version to roll back to: this instance ran 1.3.0, 1.2.2, none of them older than the running 1.2.2, and the release source lists no older release.')
  })

  it('says why when every older version is refused', () => {
    const migrating = { ...rel('1.2.3'), migratesData: true, rollbackFloor: '1.2.3' }
    const result = rollbackAvailability({ currentVersion: '1.2.3', channel: 'stable', releases: [rel('1.2.2'), migrating], runs: [] })
    expect(result).toEqual({ available: false, reason: 'No earlier version can be installed: 1.2.2: 1.2.3 migrated data and cannot roll back below 1.2.3' })
  })
})
