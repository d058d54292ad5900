/**
 * The sidecar's admission (sidecar/job-request.ts) with a real journal and release archive: the
 * shared target rules hold for every job whatever the client checked or sent along.
 */
import { readFileSync } from 'node:fs'
import { generateKeyPairSync } from 'node:crypto'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { demoCompose } from '../../scripts/bootstrap'
import { composePolicyOptionsFromEnv } from '../../shared/compose-policy'
import { RELEASE_INDEX_CHECK_ID } from '../../shared/node/checks/release-index'
import { artifactNames, writeReleaseArtifacts } from '../../shared/release-artifacts'
import { nextIndex, readIndexFile, serializeIndex, signManifest, type IndexUpdate } from '../../shared/release-index'
import { REHEARSAL_OVERRIDE_REFUSED } from '../../shared/schemas/common'
import type { JobRequest, SignedIndexBody } from '../../shared/schemas/job'
import { releaseIndexSchema, type ReleaseIndex } from '../../shared/schemas/release'
import type { DriverCapabilities } from '../../sidecar/drivers/types'
import { admitJob, type AdmissionDeps } from '../../sidecar/job-request'
import { Journal } from '../../sidecar/journal'
import { ReleaseArchive } from '../../sidecar/release-archive'
import { jobRequest, makeDataDir, readSignedManifest, testConfig, writeCustomRelease } from './helpers'

const NO_RESTORE: DriverCapabilities = { backups: { supported: false, reason: 'test' }, dataRestore: false, selfUpdate: false, images: false, rehearsals: { supported: true, reason: null } }

/** A real journal and archive in `dataDir`, trusting its demo key, with a driver that restores nothing. */
function admissionDeps(dataDir: string, journal: Journal, installedVersion: string): AdmissionDeps {
  const publicKey = testConfig(dataDir, 1).releasePublicKey()
  return {
    journal,
    releasePublicKey: [publicKey],
    installedVersion,
    composePolicy: composePolicyOptionsFromEnv({}, dataDir),
    archive: new ReleaseArchive(join(dataDir, 'archive'), () => publicKey),
    capabilities: NO_RESTORE,
  }
}

describe('job admission', () => {
  let dataDir: string
  let journal: Journal
  let deps: AdmissionDeps

  beforeEach(() => {
    dataDir = makeDataDir()
    journal = new Journal(join(dataDir, 'journal.sqlite'))
    deps = admissionDeps(dataDir, journal, '1.3.0')
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

  it('refuses a rehearsal with a driver that cannot rehearse, with its reason, and journals nothing', async () => {
    const capabilities = { ...NO_RESTORE, rehearsals: { supported: false, reason: 'no copies on this driver' } }
    const admission = await admitJob(jobRequest(dataDir, '1.3.0', { kind: 'rehearsal' }), { ...deps, installedVersion: '1.2.2', capabilities })
    expect(admission).toEqual({ ok: false, status: 400, error: 'no copies on this driver' })
    expect(journal.listJobs(10)).toEqual([])
    expect(await admitJob(jobRequest(dataDir, '1.3.0', {}), { ...deps, installedVersion: '1.2.2', capabilities })).toMatchObject({ ok: true })
  })
})

describe('job admission: the release index, judged by the updater itself', () => {
  let dataDir: string
  let journal: Journal
  let deps: AdmissionDeps
  const demo = () => join(dataDir, 'releases')
  const signingKey = () => readFileSync(join(dataDir, 'keys', 'release-signing.pem'), 'utf8')
  /** The demo publication's index as published, then `change` applied as the next publication. */
  const published = () => readIndexFile(demo())!
  function signed(index: ReleaseIndex, privateKey = signingKey()): SignedIndexBody {
    const bytes = serializeIndex(index)
    return { text: bytes.toString('utf8'), signature: signManifest(bytes, privateKey) }
  }
  const next = (update: IndexUpdate = {}, previous = published()) => nextIndex(previous, update)
  const update = (index: SignedIndexBody, version = '1.3.0', extra: Partial<JobRequest> = {}) =>
    admitJob(jobRequest(dataDir, version, { index, ...extra }), { ...deps, installedVersion: '1.2.2' })

  beforeEach(() => {
    dataDir = makeDataDir()
    journal = new Journal(join(dataDir, 'journal.sqlite'))
    deps = admissionDeps(dataDir, journal, '1.2.2')
  })

  afterEach(() => {
    journal.close()
  })

  it('refuses a job without an index, or with one no trusted key signed; nothing is journaled or kept', async () => {
    const { index: _index, ...bare } = jobRequest(dataDir, '1.3.0')
    expect(await admitJob(bare, deps)).toMatchObject({ ok: false, status: 400, error: expect.stringMatching(/^invalid job request: index: /) })
    const stranger = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
    expect(await update(signed(next(), stranger))).toEqual({ ok: false, status: 400, error: 'release index refused: the release index is not signed by any trusted release key (1 trusted)' })
    expect(journal.listJobs(10)).toEqual([])
    expect(await deps.archive.releases()).toEqual([])
    expect(journal.releaseTrust().highestSerial).toBeNull()
  })

  it('keeps its own ratchet: an older index than one it accepted is a rollback attack, refused and recorded', async () => {
    const older = signed(published())
    const newer = signed(next())
    expect(await update(newer)).toMatchObject({ ok: true })
    journal.setJobStatus(journal.listJobs(1)[0]!.id, 'failed', 'test')
    expect(journal.releaseTrust().highestSerial).toBe(published().serial + 1)
    const replay = await update(older, '1.2.3')
    expect(replay).toEqual({ ok: false, status: 400, error: expect.stringContaining(`release index refused: the release index has serial ${published().serial}, lower than ${published().serial + 1} already seen`) })
    expect(journal.releaseTrust().rollbackRefusal).toMatchObject({ serial: published().serial, highestSerial: published().serial + 1, where: 'a job sent by admin@example.com (cli)' })
    expect(journal.listJobs(10)).toHaveLength(1)
  })

  it('installs only what the index lists, with the same manifest, unrevoked', async () => {
    const without = published()
    const omitted = signed({ ...next(), releases: without.releases.filter(r => r.version !== '1.3.0'), revoked: [] })
    // Omitting a release already seen would read as an old list; this updater has seen none yet.
    expect(await update(omitted)).toEqual({ ok: false, status: 400, error: `release 1.3.0 is not in the signed release index (serial ${without.serial + 1})` })
    const revoked = signed(next({ revoke: [{ version: '1.3.0', reason: 'drops queued mail', moveTo: '1.3.1' }] }, readIndexFromText(omitted)))
    expect(await update(revoked)).toEqual({ ok: false, status: 400, error: 'release 1.3.0 is revoked: drops queued mail' })
    // Mix-and-match: a validly signed 1.3.0 the publication never listed.
    const forged = writeCustomRelease(dataDir, '1.3.0', demoCompose({ version: '1.3.0', webEnv: { FORGED: '1' } }))
    const listedSha = published().releases.find(r => r.version === '1.3.0')!.manifestSha256
    const relisted = signed({ ...next(), serial: readIndexFromText(revoked).serial + 1 })
    const mixed = await admitJob(jobRequest(dataDir, '1.3.0', { index: relisted }, forged), deps)
    expect(mixed).toEqual({ ok: false, status: 400, error: expect.stringMatching(new RegExp(`^the manifest of 1\\.3\\.0 \\(sha256 [a-f0-9]{64}\\) is not the one the signed release index lists \\(${listedSha}\\)$`)) })
    expect(journal.listJobs(10)).toEqual([])
  })

  it('refuses an expired index for an update unless the freshness check is overridden; a rollback goes back to what ran', async () => {
    const stale = signed(next({ now: Date.now() - 30 * 24 * 3600_000 }))
    expect(await update(stale)).toEqual({
      ok: false, status: 400, error: expect.stringMatching(/^release information is stale since .* \(index serial \d+\): no update starts on it unless the plan's release-index-fresh check is overridden with a reason$/),
    })
    const override = { reason: 'air-gapped, checked the list by hand', checks: [RELEASE_INDEX_CHECK_ID] }
    const admitted = await update(stale, '1.3.0', { override })
    expect(admitted).toMatchObject({ ok: true, job: { override } })
    journal.setJobStatus(journal.listJobs(1)[0]!.id, 'failed', 'test')
    const back = await admitJob(jobRequest(dataDir, '1.2.2', { kind: 'rollback', index: stale, releases: [readSignedManifest(demo(), '1.2.3')] }), { ...deps, installedVersion: '1.2.3' })
    expect(back).toMatchObject({ ok: true, job: { kind: 'rollback', toVersion: '1.2.2' } })
  })

  it('rotates keys: a key the current one announces is trusted from then on, and a retired one no longer is', async () => {
    const fresh = generateKeyPairSync('ed25519')
    const freshPrivate = fresh.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
    const freshPublic = fresh.publicKey.export({ type: 'spki', format: 'pem' }).toString()
    const oldPublic = testConfig(dataDir, 1).releasePublicKey()
    // 1.4.0 is signed by the new key only.
    const dir = join(dataDir, 'rotated')
    const manifest = writeReleaseArtifacts({
      dir, compose: demoCompose({ version: '1.4.0' }), privateKey: freshPrivate, index: false,
      manifest: { version: '1.4.0', channel: 'stable', publishedAt: '2026-11-20T10:00:00Z', severity: 'normal', images: [], migrations: { migratesData: false, rollbackFloor: null }, notes: 'rotated' },
    })
    const listing = next({ manifests: [{ manifest, bytes: readFileSync(join(dir, artifactNames('1.4.0').manifest)) }] })
    // Signed by the new key before anyone announced it: refused.
    expect(await admitJob(jobRequest(dataDir, '1.4.0', { index: signed(listing, freshPrivate) }, dir), deps)).toMatchObject({ ok: false, error: expect.stringContaining('not signed by any trusted release key') })
    // The current key announces the new one: the release it signed installs.
    const announced = { ...listing, nextKeys: [freshPublic] }
    const admitted = await admitJob(jobRequest(dataDir, '1.4.0', { index: signed(announced) }, dir), deps)
    expect(admitted).toMatchObject({ ok: true, job: { toVersion: '1.4.0' } })
    journal.setJobStatus(journal.listJobs(1)[0]!.id, 'failed', 'test')
    expect(journal.releaseTrust().learnedKeys.map(k => k.trim())).toEqual([freshPublic.trim()])
    // The new key retires the old one: an index the old key signs is refused from then on.
    const retiring = signed(next({ retiredKeys: [oldPublic] }, announced), freshPrivate)
    expect(await admitJob(jobRequest(dataDir, '1.4.0', { index: retiring, retryFailed: true }, dir), deps)).toMatchObject({ ok: true })
    journal.setJobStatus(journal.listJobs(1)[0]!.id, 'failed', 'test')
    const byOld = signed(next({}, readIndexFromText(retiring)))
    expect(await update(byOld)).toEqual({ ok: false, status: 400, error: 'release index refused: the release index is not signed by any trusted release key (1 trusted)' })
  })
})

function readIndexFromText(signedIndex: SignedIndexBody): ReleaseIndex {
  return releaseIndexSchema.parse(JSON.parse(signedIndex.text))
}
