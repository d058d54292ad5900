/**
 * The store contract: every `SystemStore` (the embedded SQLite one, the Convex one) must pass
 * these cases, so the web behaves the same whichever it runs on. A store file calls
 * `describeStoreContract` with a factory; cases that only make sense for one store live beside it.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Plan } from '../../shared/schemas/api'
import type { Step } from '../../shared/schemas/common'
import type { Job } from '../../shared/schemas/job'
import { EMPTY_RELEASE_TRUST, type Release } from '../../shared/schemas/release'
import { createNotification } from '../../shared/notifications'
import { DISPATCH_GRACE_MS, reconcileRun } from '../../server/utils/runs'
import { SidecarRejectedError, type SidecarClient } from '../../server/utils/sidecar'
import { ActiveRunError, DuplicateUserError, RunNotFoundError, UserNotFoundError, type NewRun, type SystemStore } from '../../server/utils/store/types'

export interface StoreUnderTest {
  store: SystemStore
  /** A second, independent client of the same data (another connection, another web process). */
  other: () => SystemStore
  cleanup: () => Promise<void>
}

export const newRun: NewRun = { kind: 'update', fromVersion: '1.2.2', toVersion: '1.3.0', requestedBy: { email: 'admin@example.com', via: 'web' } }

export const release: Release = {
  version: '1.3.0',
  channel: 'stable',
  publishedAt: '2026-11-01T10:00:00Z',
  severity: 'normal',
  notes: 'n',
  notesHtml: '<p>n</p>',
  migratesData: false,
  rollbackFloor: null,
  verified: true,
  verifyError: null,
}

const cliSteps: Step[] = [{ name: 'preflight', status: 'running', startedAt: 5, endedAt: null, log: ['checking'], error: null }]

export const cliJob: Job = {
  id: 'cli-job-1',
  runId: null,
  kind: 'rollback',
  fromVersion: '1.3.0',
  toVersion: '1.2.2',
  status: 'running',
  reason: null,
  requestedBy: { email: 'ops@example.com', via: 'cli' },
  createdAt: 4,
  startedAt: 5,
  endedAt: null,
  steps: cliSteps,
}

/** A sidecar that has never heard of any job (its journal was lost, say). */
function forgetfulSidecar(): SidecarClient {
  const refuse = () => Promise.reject(new Error('not used by these cases'))
  return {
    createJob: refuse,
    health: refuse,
    bundle: refuse,
    stackChecks: refuse,
    listJobs: async () => [],
    getJob: async jobId => Promise.reject(new SidecarRejectedError(404, `no job ${jobId}`)),
  }
}

export function describeStoreContract(name: string, open: () => Promise<StoreUnderTest>): void {
  describe(`store contract: ${name}`, () => {
    let subject: StoreUnderTest
    let store: SystemStore

    beforeEach(async () => {
      subject = await open()
      store = subject.store
    })

    afterEach(async () => {
      await subject.cleanup()
    })

    describe('users', () => {
      it('creates users with lower-cased emails and finds them by email and id', async () => {
        const user = await store.createUser({ email: 'Admin@Example.com', role: 'platform-admin', passwordHash: 'h' })
        expect(user).toEqual({ id: expect.any(String), email: 'admin@example.com', role: 'platform-admin', passwordHash: 'h', createdAt: expect.any(Number), sessionVersion: 0, notifications: 'all' })
        expect(await store.getUserByEmail('ADMIN@example.com')).toEqual(user)
        expect(await store.getUserById(user.id)).toEqual(user)
        expect(await store.getUserByEmail('nobody@example.com')).toBeNull()
        expect(await store.getUserById('not-an-id')).toBeNull()
      })

      it('refuses a second user with the same email', async () => {
        await store.createUser({ email: 'a@example.com', role: 'member', passwordHash: 'h' })
        const err = await store.createUser({ email: 'A@example.com', role: 'member', passwordHash: 'h2' }).catch((e: unknown) => e)
        expect(err).toBeInstanceOf(DuplicateUserError)
        expect((err as DuplicateUserError).email).toBe('a@example.com')
      })

      it('lists users by email', async () => {
        await store.createUser({ email: 'b@example.com', role: 'member', passwordHash: 'h' })
        await store.createUser({ email: 'a@example.com', role: 'platform-admin', passwordHash: 'h' })
        expect((await store.listUsers()).map(u => [u.email, u.role])).toEqual([['a@example.com', 'platform-admin'], ['b@example.com', 'member']])
      })

      it('ends every session of a user on a new password or another role, as seen by every client', async () => {
        const user = await store.createUser({ email: 'a@example.com', role: 'platform-admin', passwordHash: 'h' })
        const demoted = await store.updateUser(user.id, { role: 'member' })
        expect(demoted).toMatchObject({ role: 'member', passwordHash: 'h', sessionVersion: 1 })
        const renewed = await subject.other().updateUser(user.id, { passwordHash: 'h2' })
        expect(renewed).toMatchObject({ role: 'member', passwordHash: 'h2', sessionVersion: 2 })
        expect(await store.getUserById(user.id)).toEqual(renewed)
        // The same role again changes nothing, so no session ends.
        expect(await store.updateUser(user.id, { role: 'member' })).toEqual(renewed)
        expect(await store.updateUser(user.id, {})).toEqual(renewed)
      })

      it('ends every session of a user on sign-out', async () => {
        const user = await store.createUser({ email: 'a@example.com', role: 'member', passwordHash: 'h' })
        expect(await store.revokeSessions(user.id)).toEqual({ ...user, sessionVersion: 1 })
        expect(await subject.other().revokeSessions(user.id)).toEqual({ ...user, sessionVersion: 2 })
        expect(await store.getUserByEmail('a@example.com')).toEqual({ ...user, sessionVersion: 2 })
        expect(await store.revokeSessions('not-an-id')).toBeNull()
      })

      it('refuses to change a user who does not exist', async () => {
        const err = await store.updateUser('not-an-id', { role: 'member' }).catch((e: unknown) => e)
        expect(err).toBeInstanceOf(UserNotFoundError)
        expect((err as UserNotFoundError).userId).toBe('not-an-id')
      })
    })

    describe('runs', () => {
      it('records an override of failing checks with its reason on the run', async () => {
        const override = { reason: 'the updater is upgraded next', checks: ['updater', 'free-disk'] }
        const run = await store.openRun({ ...newRun, override })
        expect(run.override).toEqual(override)
        expect(await store.getRun(run.id)).toMatchObject({ override })
        expect((await store.listRuns(1))[0]).toMatchObject({ override })
        await store.updateRun(run.id, { status: 'running' })
        await store.updateRun(run.id, { status: 'succeeded', endedAt: Date.now() })
        expect(await store.getRun(run.id)).toMatchObject({ status: 'succeeded', override })
      })

      it('keeps the path of a run through required upgrade stops, and of a job adopted with one', async () => {
        const run = await store.openRun({ ...newRun, toVersion: '1.3.1', path: ['1.3.0', '1.3.1'] })
        expect(await store.getRun(run.id)).toMatchObject({ toVersion: '1.3.1', path: ['1.3.0', '1.3.1'] })
        const hopSteps = [{ name: 'commit' as const, status: 'succeeded' as const, startedAt: 1, endedAt: 2, log: [], error: null, hop: 0 }, { name: 'commit' as const, status: 'running' as const, startedAt: 3, endedAt: null, log: [], error: null, hop: 1 }]
        await store.updateRun(run.id, { status: 'running', steps: hopSteps })
        expect((await store.listRuns(1))[0]).toMatchObject({ path: ['1.3.0', '1.3.1'], steps: hopSteps })
        await store.updateRun(run.id, { status: 'failed', reason: 'x' })
        const adopted = await store.adoptJob({ ...cliJob, id: 'cli-hops', kind: 'update', fromVersion: '1.2.2', toVersion: '1.3.1', path: ['1.3.0', '1.3.1'] })
        expect(adopted.path).toEqual(['1.3.0', '1.3.1'])
      })

      it('keeps the plan a rehearsal was opened with, through its updates and in the list', async () => {
        const plan: Plan = {
          kind: 'rehearsal', fromVersion: '1.2.2', targetVersion: '1.3.1', path: ['1.3.0', '1.3.1'],
          checks: [{ id: 'free-disk', status: 'ok', message: '9 GiB free', fix: null, ignorable: true }],
          images: [{ service: 'web', from: 'ghcr.io/owlat/web:1.2.2', to: 'ghcr.io/owlat/web:1.3.1' }],
          composeDiff: '--- a\n+++ b\n-x\n+y',
          migratesData: true,
          rollbackFloor: '1.3.0',
          migrations: [{ version: '1.3.1', migratesData: true, rollbackFloor: '1.3.0' }, { version: '1.3.0', migratesData: false, rollbackFloor: null }],
        }
        const run = await store.openRun({ ...newRun, kind: 'rehearsal', toVersion: '1.3.1', path: plan.path, plan })
        expect(run).toMatchObject({ kind: 'rehearsal', plan })
        await store.updateRun(run.id, { status: 'running', steps: [] })
        await store.updateRun(run.id, { status: 'failed', reason: 'verify failed' })
        expect(await store.getRun(run.id)).toMatchObject({ status: 'failed', plan })
        expect((await store.listRuns(1))[0]).toMatchObject({ id: run.id, plan })
        // A run opened without one, and an adopted job, have none.
        expect((await store.openRun(newRun)).plan).toBeNull()
      })

      it('opens a queued run and allows only one active run', async () => {
        const run = await store.openRun(newRun)
        expect(run).toEqual({
          id: expect.any(String), jobId: null, kind: 'update', fromVersion: '1.2.2', toVersion: '1.3.0', status: 'queued',
          reason: null, requestedBy: newRun.requestedBy, startedAt: expect.any(Number), endedAt: null, steps: [], override: null, path: null, plan: null,
        })
        const err = await store.openRun(newRun).catch((e: unknown) => e)
        expect(err).toBeInstanceOf(ActiveRunError)
        expect((err as ActiveRunError).activeRunId).toBe(run.id)
        expect(await store.getActiveRun()).toEqual(run)
        expect(await store.getRun(run.id)).toEqual(run)
      })

      it('lets exactly one of several concurrent opens win, across clients', async () => {
        const other = subject.other()
        const results = await Promise.allSettled([store.openRun(newRun), other.openRun(newRun), store.openRun(newRun)])
        const won = results.filter(r => r.status === 'fulfilled')
        expect(won).toHaveLength(1)
        const rejected = results.filter(r => r.status === 'rejected')
        expect(rejected).toHaveLength(2)
        for (const r of rejected) expect(r.reason).toBeInstanceOf(ActiveRunError)
        expect((await store.getActiveRun())?.id).toBe(won[0]!.value.id)
        expect(await store.listRuns(10)).toHaveLength(1)
      })

      it('opens a new run once the active one ended', async () => {
        const first = await store.openRun(newRun)
        await store.updateRun(first.id, { status: 'failed', reason: 'boom' })
        const second = await store.openRun(newRun)
        expect(second.id).not.toBe(first.id)
        expect((await store.getActiveRun())?.id).toBe(second.id)
      })

      it('follows the state machine and stamps endedAt on a terminal status', async () => {
        const run = await store.openRun(newRun)
        expect(await store.attachJob(run.id, 'job-1')).toMatchObject({ id: run.id, jobId: 'job-1', status: 'queued' })
        const steps: Step[] = [{ name: 'preflight', status: 'succeeded', startedAt: 1, endedAt: 2, log: ['ok'], error: null }]
        const running = await store.updateRun(run.id, { status: 'running', steps })
        expect(running).toMatchObject({ status: 'running', jobId: 'job-1', steps, endedAt: null })
        await expect(store.updateRun(run.id, { status: 'queued' })).rejects.toThrow(/illegal run transition running → queued/)
        const done = await store.updateRun(run.id, { status: 'succeeded' })
        expect(done.status).toBe('succeeded')
        expect(done.endedAt).toEqual(expect.any(Number))
        expect(done.steps).toEqual(steps)
        await expect(store.updateRun(run.id, { status: 'failed' })).rejects.toThrow(/illegal run transition succeeded → failed/)
        expect(await store.getActiveRun()).toBeNull()
        expect(await store.getRunByJobId('job-1')).toEqual(done)
      })

      it('refuses queued → succeeded and keeps an explicit endedAt', async () => {
        const run = await store.openRun(newRun)
        await expect(store.updateRun(run.id, { status: 'succeeded' })).rejects.toThrow(/illegal run transition queued → succeeded/)
        const failed = await store.updateRun(run.id, { status: 'failed', reason: 'why', endedAt: 42 })
        expect(failed).toMatchObject({ status: 'failed', reason: 'why', endedAt: 42 })
      })

      it('changes only what a patch names', async () => {
        const run = await store.openRun(newRun)
        await store.updateRun(run.id, { status: 'running', reason: 'first' })
        const same = await store.updateRun(run.id, {})
        expect(same).toMatchObject({ status: 'running', reason: 'first', steps: [], endedAt: null })
        expect(await store.updateRun(run.id, { reason: null })).toMatchObject({ status: 'running', reason: null })
      })

      it('reports unknown runs', async () => {
        expect(await store.getRun('nope')).toBeNull()
        const err = await store.updateRun('nope', { status: 'failed' }).catch((e: unknown) => e)
        expect(err).toBeInstanceOf(RunNotFoundError)
        expect((err as RunNotFoundError).runId).toBe('nope')
        await expect(store.attachJob('nope', 'j')).rejects.toBeInstanceOf(RunNotFoundError)
      })

      it('lists runs newest first, limited', async () => {
        const ids: string[] = []
        for (let i = 0; i < 3; i++) {
          const run = await store.openRun({ ...newRun, toVersion: `1.3.${i}` })
          await store.updateRun(run.id, { status: 'failed', reason: 'x' })
          ids.push(run.id)
        }
        expect((await store.listRuns(10)).map(r => r.id)).toEqual([...ids].reverse())
        expect((await store.listRuns(2)).map(r => r.id)).toEqual([ids[2], ids[1]])
        expect(await store.listRuns(0)).toHaveLength(1)
      })
    })

    describe('adopting sidecar jobs', () => {
      it('records a job as a run with the job\'s fields, found by its job id', async () => {
        const run = await store.adoptJob(cliJob)
        expect(run).toEqual({
          id: expect.any(String), jobId: 'cli-job-1', kind: 'rollback', fromVersion: '1.3.0', toVersion: '1.2.2', status: 'running',
          reason: null, requestedBy: { email: 'ops@example.com', via: 'cli' }, startedAt: 5, endedAt: null, steps: cliSteps, override: null, path: null, plan: null,
        })
        expect(await store.getRunByJobId('cli-job-1')).toEqual(run)
        expect(await store.getActiveRun()).toEqual(run)
        expect(await store.getRunByJobId('other')).toBeNull()
        // Adopted runs follow the same state machine afterwards.
        expect(await store.updateRun(run.id, { status: 'succeeded', endedAt: 9 })).toMatchObject({ status: 'succeeded', endedAt: 9 })
      })

      it('starts a job that never started at its creation and keeps a finished job\'s end and reason', async () => {
        const run = await store.adoptJob({ ...cliJob, status: 'failed', reason: 'preflight failed', startedAt: null, endedAt: 7 })
        expect(run).toMatchObject({ status: 'failed', reason: 'preflight failed', startedAt: 4, endedAt: 7 })
      })

      it('is idempotent, also across clients', async () => {
        const other = subject.other()
        const [a, b, c] = await Promise.all([store.adoptJob(cliJob), other.adoptJob(cliJob), store.adoptJob({ ...cliJob, status: 'succeeded' })])
        expect(b).toEqual(a)
        expect(c).toEqual(a)
        expect(await store.listRuns(10)).toHaveLength(1)
      })

      it('refuses an active job while another run is active, but records finished ones', async () => {
        const open = await store.openRun(newRun)
        const err = await store.adoptJob(cliJob).catch((e: unknown) => e)
        expect(err).toBeInstanceOf(ActiveRunError)
        expect((err as ActiveRunError).activeRunId).toBe(open.id)
        expect(await store.getRunByJobId(cliJob.id)).toBeNull()
        const done = await store.adoptJob({ ...cliJob, id: 'cli-job-0', status: 'succeeded', endedAt: 6 })
        expect(done.status).toBe('succeeded')
        expect((await store.getActiveRun())?.id).toBe(open.id)
      })

      it('keeps job ids unique across runs', async () => {
        const adopted = await store.adoptJob({ ...cliJob, status: 'succeeded' })
        const run = await store.openRun(newRun)
        await expect(store.attachJob(run.id, 'cli-job-1')).rejects.toThrow()
        expect(await store.getRunByJobId('cli-job-1')).toEqual(adopted)
        expect((await store.getRun(run.id))?.jobId).toBeNull()
      })
    })

    describe('reconciliation', () => {
      it('fails a run whose job vanished from the sidecar, which frees the instance', async () => {
        const run = await store.attachJob((await store.openRun(newRun)).id, 'ghost')
        const reconciled = await reconcileRun(run, { store, sidecar: forgetfulSidecar(), leaseMs: 60_000 })
        expect(reconciled).toMatchObject({ id: run.id, status: 'failed', reason: 'the updater has no record of job ghost', endedAt: expect.any(Number) })
        expect(await store.getRun(run.id)).toEqual(reconciled)
        expect(await store.getActiveRun()).toBeNull()
        expect((await store.openRun(newRun)).status).toBe('queued')
      })

      it('fails a run whose dispatch never completed once the grace period is over', async () => {
        const run = await store.openRun(newRun)
        const deps = { store, sidecar: forgetfulSidecar(), leaseMs: 60_000 }
        expect(await reconcileRun(run, { ...deps, now: () => run.startedAt + 1 })).toEqual(run)
        const reconciled = await reconcileRun(run, { ...deps, now: () => run.startedAt + DISPATCH_GRACE_MS + 1 })
        expect(reconciled).toMatchObject({ status: 'failed', reason: 'dispatch never completed' })
        expect(await store.getActiveRun()).toBeNull()
      })
    })

    describe('dismissals', () => {
      it('are per user and per version, and idempotent', async () => {
        await store.dismiss({ userId: 'u1', email: 'u1@example.com' }, '1.3.0')
        await store.dismiss({ userId: 'u1', email: 'u1@example.com' }, '1.3.0')
        expect(await store.isDismissed('u1', '1.3.0')).toBe(true)
        expect(await store.isDismissed('u2', '1.3.0')).toBe(false)
        expect(await store.isDismissed('u1', '1.3.1')).toBe(false)
      })
    })

    describe('release cache', () => {
      it('starts empty and keeps what was saved, with its check time and error', async () => {
        expect(await store.getReleaseCache()).toEqual({ releases: [], checkedAt: null, error: null })
        await store.saveReleaseCache({ releases: [release], checkedAt: 10, error: null })
        expect(await store.getReleaseCache()).toEqual({ releases: [release], checkedAt: 10, error: null })
        await store.saveReleaseCache({ releases: [release], checkedAt: 20, error: 'source down' })
        expect(await store.getReleaseCache()).toEqual({ releases: [release], checkedAt: 20, error: 'source down' })
      })

      it('replaces the list as a whole and keeps its order', async () => {
        const beta: Release = { ...release, version: '1.4.0-beta.1', channel: 'beta', severity: 'security', rollbackFloor: '1.3.0', verified: false, verifyError: 'bad signature' }
        const patch: Release = { ...release, version: '1.3.1' }
        await store.saveReleaseCache({ releases: [beta, release, patch], checkedAt: 1, error: null })
        expect((await store.getReleaseCache()).releases).toEqual([beta, release, patch])
        await store.saveReleaseCache({ releases: [patch], checkedAt: 2, error: null })
        expect(await store.getReleaseCache()).toEqual({ releases: [patch], checkedAt: 2, error: null })
      })
    })

    describe('release check state', () => {
      it('starts empty and replaces only the fields a save names', async () => {
        expect(await store.getReleaseCheckState()).toEqual({ nextCheckAt: null, retryAt: null, etag: null, fingerprints: {} })
        const fingerprints = { '1.3.0': 'sha256:aa', '1.4.0-beta.1': 'sha256:bb' }
        await store.saveReleaseCheckState({ etag: 'W/"abc"', fingerprints })
        await store.saveReleaseCheckState({ retryAt: 50 })
        expect(await store.getReleaseCheckState()).toEqual({ nextCheckAt: null, retryAt: 50, etag: 'W/"abc"', fingerprints })
        // Saving the cache leaves the check state alone, and the other way round.
        await store.saveReleaseCache({ releases: [release], checkedAt: 10, error: null })
        await store.saveReleaseCheckState({ etag: null, retryAt: null, fingerprints: {} })
        expect(await store.getReleaseCheckState()).toEqual({ nextCheckAt: null, retryAt: null, etag: null, fingerprints: {} })
        expect(await store.getReleaseCache()).toEqual({ releases: [release], checkedAt: 10, error: null })
      })

      it('hands a due slot to exactly one of several concurrent claimers, across clients', async () => {
        expect(await store.claimReleaseCheck(100, 200)).toBe(true)
        expect(await store.claimReleaseCheck(150, 300)).toBe(false)
        expect((await store.getReleaseCheckState()).nextCheckAt).toBe(200)
        const other = subject.other()
        const claims = await Promise.all([store.claimReleaseCheck(200, 400), other.claimReleaseCheck(200, 400), store.claimReleaseCheck(200, 400)])
        expect(claims.filter(Boolean)).toHaveLength(1)
        expect((await other.getReleaseCheckState()).nextCheckAt).toBe(400)
        await store.saveReleaseCheckState({ etag: 'e' })
        expect((await store.getReleaseCheckState()).nextCheckAt).toBe(400)
      })
    })

    describe('release trust', () => {
      it('starts empty, replaces only the fields a save names, and never lowers the serial (the ratchet)', async () => {
        expect(await store.getReleaseTrust()).toEqual(EMPTY_RELEASE_TRUST)
        expect(await store.saveReleaseTrust({ highestSerial: 5, highestVersion: '1.3.0', indexText: '{"serial":5}', indexSignature: 'sig5', learnedKeys: ['K2'] })).toBe(true)
        expect(await store.saveReleaseTrust({ rollbackRefusal: { at: 10, serial: 3, highestSerial: 5, where: 'release folder /x' } })).toBe(true)
        const other = subject.other()
        // A lower serial changes nothing, not even the other fields of the same save, for any client.
        expect(await other.saveReleaseTrust({ highestSerial: 4, indexText: '{"serial":4}', indexSignature: 'sig4' })).toBe(false)
        expect(await store.getReleaseTrust()).toEqual({
          highestSerial: 5, highestVersion: '1.3.0', indexText: '{"serial":5}', indexSignature: 'sig5', learnedKeys: ['K2'], retiredKeys: [],
          rollbackRefusal: { at: 10, serial: 3, highestSerial: 5, where: 'release folder /x' },
        })
        // The same serial again and a higher one are taken.
        expect(await other.saveReleaseTrust({ highestSerial: 5, retiredKeys: ['K1'] })).toBe(true)
        expect(await other.saveReleaseTrust({ highestSerial: 6, indexText: '{"serial":6}', rollbackRefusal: null })).toBe(true)
        expect(await store.getReleaseTrust()).toMatchObject({ highestSerial: 6, indexText: '{"serial":6}', retiredKeys: ['K1'], learnedKeys: ['K2'], rollbackRefusal: null })
      })
    })

    describe('acknowledgements', () => {
      it('records who acknowledged a finished run; the first acknowledgement stands, for every client', async () => {
        const run = await store.openRun(newRun)
        await store.updateRun(run.id, { status: 'failed', reason: 'verify failed' })
        expect(await store.getAcknowledgement(run.id)).toBeNull()
        const first = await store.acknowledgeRun(run.id, { userId: 'u1', email: 'a@example.com' })
        expect(first).toMatchObject({ runId: run.id, userId: 'u1', email: 'a@example.com' })
        const second = await subject.other().acknowledgeRun(run.id, { userId: 'u2', email: 'b@example.com' })
        expect(second).toEqual(first)
        expect(await subject.other().getAcknowledgement(run.id)).toEqual(first)
      })

      it('refuses an unknown run', async () => {
        await expect(store.acknowledgeRun('no-such-run', { userId: 'u1', email: 'a@example.com' })).rejects.toBeInstanceOf(RunNotFoundError)
      })
    })

    describe('settings', () => {
      it('defaults to the stable channel and persists a change', async () => {
        expect(await store.getSettings()).toMatchObject({ channel: 'stable' })
        expect(await store.updateSettings({ channel: 'beta' }, 'admin@example.com')).toMatchObject({ channel: 'beta' })
        expect(await store.getSettings()).toMatchObject({ channel: 'beta' })
        expect(await subject.other().getSettings()).toMatchObject({ channel: 'beta' })
        expect(await store.updateSettings({})).toMatchObject({ channel: 'beta' })
        expect(await store.updateSettings({ channel: 'stable' })).toMatchObject({ channel: 'stable' })
      })

      it('keeps the automatic update policy beside the channel, applies only the fields given and refuses a bad one whole', async () => {
        expect(await store.getSettings()).toEqual({
          channel: 'stable', autoUpdate: 'off', maintenanceWindow: null, securityOutsideWindow: false, pausedUntil: null, pausedBy: null,
        })
        const window = { days: ['sun', 'sat'] as const, start: '03:00', durationMinutes: 120, timeZone: 'europe/berlin' }
        const saved = await store.updateSettings({ autoUpdate: 'patch', maintenanceWindow: { ...window, days: [...window.days] }, pausedUntil: 5_000, pausedBy: 'admin@example.com' }, 'admin@example.com')
        const expected = {
          channel: 'stable', autoUpdate: 'patch', securityOutsideWindow: false, pausedUntil: 5_000, pausedBy: 'admin@example.com',
          // Stored as the schema reads it: week order, the zone's canonical name.
          maintenanceWindow: { days: ['sat', 'sun'], start: '03:00', durationMinutes: 120, timeZone: 'Europe/Berlin' },
        }
        expect(saved).toEqual(expected)
        expect(await subject.other().getSettings()).toEqual(expected)
        expect(await store.updateSettings({ channel: 'beta' })).toEqual({ ...expected, channel: 'beta' })
        await expect(store.updateSettings({ autoUpdate: 'weekly' as never })).rejects.toThrow()
        await expect(store.updateSettings({ channel: 'stable', maintenanceWindow: { ...window, days: ['sun'], timeZone: 'Mars/Olympus' } })).rejects.toThrow()
        expect(await store.getSettings()).toEqual({ ...expected, channel: 'beta' })
        expect(await store.updateSettings({ maintenanceWindow: null, pausedUntil: null, pausedBy: null })).toMatchObject({ maintenanceWindow: null, pausedUntil: null, pausedBy: null, autoUpdate: 'patch' })
      })
    })

    describe('notification preferences', () => {
      it('are all by default, stored with the user, and leave sessions alone', async () => {
        const user = await store.createUser({ email: 'a@example.com', role: 'platform-admin', passwordHash: 'h' })
        expect(user.notifications).toBe('all')
        expect(await store.setNotificationPreference(user.id, 'none')).toEqual({ ...user, notifications: 'none' })
        expect(await subject.other().getUserByEmail('a@example.com')).toMatchObject({ notifications: 'none', sessionVersion: 0 })
        expect((await store.listUsers())[0]!.notifications).toBe('none')
        await expect(store.setNotificationPreference('no-such-user', 'all')).rejects.toBeInstanceOf(UserNotFoundError)
      })
    })

    describe('the automatic update slot', () => {
      it('is taken by one of several replicas at a time, and again once due', async () => {
        const others = [store, subject.other(), subject.other()]
        const wins = await Promise.all(others.map(s => s.claimAutoUpdate(1_000, 61_000)))
        expect(wins.filter(Boolean)).toHaveLength(1)
        expect(await store.claimAutoUpdate(60_999, 120_000)).toBe(false)
        expect(await subject.other().claimAutoUpdate(61_000, 121_000)).toBe(true)
      })
    })

    describe('the notification outbox', () => {
      const notification = createNotification('update-started', { runId: 'r1', fromVersion: '1.2.2', toVersion: '1.3.0', via: 'schedule' }, {
        instance: { name: 'Owlat', url: null, version: '1.2.2' }, now: 1_000, id: 'n1',
      })

      it('queues each (notification, target) once, claims due deliveries for one outbox, and records the outcome', async () => {
        const delivery = { notificationId: 'n1', notification, createdAt: 1_000, nextAttemptAt: 1_000 }
        expect(await store.outbox.enqueue({ ...delivery, target: 'https://hooks.example.com/a' })).toBe(true)
        expect(await subject.other().outbox.enqueue({ ...delivery, target: 'https://hooks.example.com/a' })).toBe(false)
        expect(await store.outbox.enqueue({ ...delivery, target: 'mailto:a@example.com', createdAt: 1_001 })).toBe(true)
        expect(await store.outbox.due(999, 10, 5_000)).toEqual([])

        const [one, two] = await Promise.all([store.outbox.due(2_000, 10, 62_000), subject.other().outbox.due(2_000, 10, 62_000)])
        const claimed = [...one!, ...two!]
        expect(claimed.map(d => d.target).sort()).toEqual(['https://hooks.example.com/a', 'mailto:a@example.com'])
        expect(claimed.every(d => d.attempts === 1 && d.nextAttemptAt === 62_000)).toBe(true)
        expect(claimed[0]!.notification).toEqual(notification)

        const hook = claimed.find(d => d.target.startsWith('https'))!
        const mail = claimed.find(d => d.target.startsWith('mailto'))!
        await store.outbox.markDelivered(hook.id, 3_000)
        await store.outbox.markFailed(hook.id, 10_000, 'late failure', 3_001)
        await store.outbox.markFailed(mail.id, 10_000, 'HTTP 500', 3_000)
        expect(await store.outbox.due(9_999, 10, 70_000)).toEqual([])
        const retried = await store.outbox.due(10_000, 10, 70_000)
        expect(retried).toMatchObject([{ id: mail.id, attempts: 2, lastError: 'HTTP 500' }])
        await store.outbox.markFailed(mail.id, null, 'gave up', 11_000)
        expect(await store.outbox.due(1e12, 10, 1e12 + 1)).toEqual([])

        const all = await subject.other().outbox.deliveriesOf('n1')
        expect(all).toMatchObject([
          { target: 'https://hooks.example.com/a', deliveredAt: 3_000, lastError: null, gaveUpAt: null },
          { target: 'mailto:a@example.com', deliveredAt: null, gaveUpAt: 11_000, lastError: 'gave up', attempts: 2 },
        ])
      })
    })
  })
}
