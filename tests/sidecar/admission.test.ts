/**
 * The sidecar's admission (sidecar/job-request.ts) with a real journal and release archive: the
 * shared target rules hold for every job whatever the client checked or sent along.
 */
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { demoCompose } from '../../scripts/bootstrap'
import { composePolicyOptionsFromEnv } from '../../shared/compose-policy'
import { REHEARSAL_OVERRIDE_REFUSED } from '../../shared/schemas/common'
import type { DriverCapabilities } from '../../sidecar/drivers/types'
import { admitJob, type AdmissionDeps } from '../../sidecar/job-request'
import { Journal } from '../../sidecar/journal'
import { ReleaseArchive } from '../../sidecar/release-archive'
import { jobRequest, makeDataDir, readSignedManifest, testConfig, writeCustomRelease } from './helpers'

const NO_RESTORE: DriverCapabilities = { backups: { supported: false, reason: 'test' }, dataRestore: false, selfUpdate: false }

describe('job admission', () => {
  let dataDir: string
  let journal: Journal
  let deps: AdmissionDeps

  beforeEach(() => {
    dataDir = makeDataDir()
    journal = new Journal(join(dataDir, 'journal.sqlite'))
    const publicKey = testConfig(dataDir, 1).releasePublicKey()
    deps = {
      journal,
      releasePublicKey: publicKey,
      installedVersion: '1.3.0',
      composePolicy: composePolicyOptionsFromEnv({}, dataDir),
      archive: new ReleaseArchive(join(dataDir, 'archive'), () => publicKey),
      capabilities: NO_RESTORE,
    }
  })

  afterEach(() => {
    journal.close()
  })

  /** 1.5.0 migrated data and cannot go back below 1.3.0; installed here without this updater. */
  function migratingRelease(): string {
    return writeCustomRelease(dataDir, '1.5.0', demoCompose({ version: '1.5.0' }), { migrations: { migratesData: true, rollbackFloor: '1.3.0' } })
  }

  it('admits an update, journals it queued and keeps its release', async () => {
    const admission = await admitJob(jobRequest(dataDir, '1.3.0', {}), { ...deps, installedVersion: '1.2.2' })
    expect(admission).toMatchObject({ ok: true, job: { kind: 'update', fromVersion: '1.2.2', toVersion: '1.3.0', status: 'queued' } })
    expect((await deps.archive.releases()).map(r => [r.version, r.verified])).toEqual([['1.3.0', true]])
  })

  it('admits a rehearsal with a rehearsal\'s steps, even of a release that failed here, and only of a newer one', async () => {
    const failed = journal.createJob({ id: 'failed-before', runId: null, kind: 'update', fromVersion: '1.2.2', toVersion: '1.3.0', requestedBy: { email: null, via: 'cli' }, force: false, compose: 'x' })
    journal.setJobStatus(failed.id, 'running')
    journal.setJobStatus(failed.id, 'rolled_back', 'verify failed')
    const update = await admitJob(jobRequest(dataDir, '1.3.0', {}), { ...deps, installedVersion: '1.2.2' })
    expect(update).toMatchObject({ ok: false, status: 400, error: expect.stringContaining('1.3.0 already failed on this instance') })
    const admission = await admitJob(jobRequest(dataDir, '1.3.0', { kind: 'rehearsal' }), { ...deps, installedVersion: '1.2.2' })
    expect(admission).toMatchObject({ ok: true, job: { kind: 'rehearsal', fromVersion: '1.2.2', toVersion: '1.3.0', status: 'queued' } })
    if (!admission.ok) throw new Error(admission.error)
    expect(admission.job.steps.map(s => s.name)).toEqual(['preflight', 'backup', 'stage', 'pull', 'deploy-functions', 'recreate', 'verify', 'watch', 'teardown'])
    journal.setJobStatus(admission.job.id, 'failed', 'done')
    expect(await admitJob(jobRequest(dataDir, '1.2.3', { kind: 'rehearsal' }), deps)).toEqual({ ok: false, status: 400, error: '1.2.3 is not newer than the running version 1.3.0' })
  })

  it('refuses a rehearsal that carries an override of failing checks, from any client, and journals nothing', async () => {
    const override = { reason: 'the disk is fine', checks: ['free-disk'] }
    const admission = await admitJob(jobRequest(dataDir, '1.3.0', { kind: 'rehearsal', override }), { ...deps, installedVersion: '1.2.2' })
    expect(admission).toEqual({ ok: false, status: 400, error: `invalid job request: override: ${REHEARSAL_OVERRIDE_REFUSED}` })
    expect(journal.listJobs(10)).toEqual([])
    // An update may carry one.
    expect(await admitJob(jobRequest(dataDir, '1.3.0', { override }), { ...deps, installedVersion: '1.2.2' })).toMatchObject({ ok: true, job: { override } })
  })

  it('refuses a rollback from a release whose manifest it does not know, since its floor cannot be checked', async () => {
    const admission = await admitJob(jobRequest(dataDir, '1.2.3', { kind: 'rollback' }), deps)
    expect(admission).toEqual({ ok: false, status: 400, error: 'cannot roll back from 1.3.0: its signed manifest is unknown here, so its rollback floor cannot be checked (send it with the job\'s releases)' })
    expect(journal.listJobs(10)).toEqual([])
  })

  it('checks the floor of a release the request carries', async () => {
    const dir = migratingRelease()
    const admission = await admitJob(jobRequest(dataDir, '1.2.3', { kind: 'rollback', releases: [readSignedManifest(dir, '1.5.0')] }), { ...deps, installedVersion: '1.5.0' })
    expect(admission).toEqual({ ok: false, status: 400, error: '1.5.0 migrated data and cannot roll back below 1.3.0' })
    const atFloor = await admitJob(jobRequest(dataDir, '1.3.0', { kind: 'rollback', releases: [readSignedManifest(dir, '1.5.0')] }), { ...deps, installedVersion: '1.5.0' })
    expect(atFloor).toMatchObject({ ok: true, job: { kind: 'rollback', toVersion: '1.3.0' } })
  })

  it('checks the floor of every release undone, not only the running one\'s', async () => {
    const dir = migratingRelease()
    writeCustomRelease(dataDir, '1.6.0', demoCompose({ version: '1.6.0' }))
    const releases = [readSignedManifest(dir, '1.6.0'), readSignedManifest(dir, '1.5.0')]
    const admission = await admitJob(jobRequest(dataDir, '1.2.3', { kind: 'rollback', releases }), { ...deps, installedVersion: '1.6.0' })
    expect(admission).toEqual({ ok: false, status: 400, error: '1.5.0 migrated data and cannot roll back below 1.3.0' })
  })

  it('refuses a carried manifest that does not verify', async () => {
    const dir = migratingRelease()
    const carried = { ...readSignedManifest(dir, '1.5.0'), signature: readSignedManifest(join(dataDir, 'releases'), '1.2.3').signature }
    const admission = await admitJob(jobRequest(dataDir, '1.2.3', { kind: 'rollback', releases: [carried] }), { ...deps, installedVersion: '1.5.0' })
    expect(admission).toEqual({ ok: false, status: 400, error: 'releases.0: release manifest signature does not verify against the pinned release key' })
  })

  it('refuses a pre-release to a requester on the stable channel', async () => {
    const admission = await admitJob(jobRequest(dataDir, '1.4.0-beta.1', { channel: 'stable' }), deps)
    expect(admission).toEqual({ ok: false, status: 400, error: '1.4.0-beta.1 is a pre-release; switch the update channel to beta to install it' })
  })

  it('refuses to restore a data backup with a driver that cannot', async () => {
    const release = readSignedManifest(join(dataDir, 'releases'), '1.3.0')
    const admission = await admitJob(jobRequest(dataDir, '1.2.3', { kind: 'rollback', restoreBackupJobId: 'job-1', releases: [release] }), deps)
    expect(admission).toEqual({ ok: false, status: 400, error: 'this updater\'s driver cannot restore data backups' })
  })
})
