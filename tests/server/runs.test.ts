/**
 * Reconciliation, sync and dispatch against a real SQLite store in a temp dir and a loopback HTTP
 * server standing in for the sidecar (`fake-sidecar.ts`).
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Run } from '../../shared/schemas/api'
import type { Step } from '../../shared/schemas/common'
import type { Job, JobRequest } from '../../shared/schemas/job'
import {
  DISPATCH_GRACE_MS, DispatchFailedError, dispatchRun, reconcileRun, syncFromSidecar, SYNC_JOB_LIMIT, type ReconcileDeps,
} from '../../server/utils/runs'
import { SidecarRejectedError, SidecarUnreachableError } from '../../server/utils/sidecar'
import { openSqliteStore } from '../../server/utils/store/sqlite'
import { ActiveRunError, type SystemStore } from '../../server/utils/store/types'
import { makeJob, startFakeSidecar, type FakeSidecar } from './fake-sidecar'

const LEASE_MS = 10 * 60_000
const WEB_USER = { email: 'a@example.com', via: 'web' } as const
const LIST_REQUEST = `GET /v1/jobs?limit=${SYNC_JOB_LIMIT}`

const steps = (status: Step['status']): Step[] => [{ name: 'preflight', status, startedAt: 1, endedAt: status === 'running' ? null : 2, log: ['checked'], error: null }]

let dir: string
let store: SystemStore
let sidecar: FakeSidecar

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'owlat-runs-'))
  store = openSqliteStore(join(dir, 'web.sqlite'))
  sidecar = await startFakeSidecar()
})

afterEach(async () => {
  await sidecar.close()
  await store.close()
  rmSync(dir, { recursive: true, force: true })
})

async function openWithJob(jobId: string | null): Promise<Run> {
  const run = await store.openRun({ kind: 'update', fromVersion: '1.2.2', toVersion: '1.3.0', requestedBy: WEB_USER })
  return jobId ? store.attachJob(run.id, jobId) : run
}

/** The job the web dispatched for `run`. */
function webJob(id: string, run: Run, patch: Partial<Job>): Job {
  return makeJob(id, { runId: run.id, kind: run.kind, fromVersion: run.fromVersion, toVersion: run.toVersion, requestedBy: run.requestedBy, createdAt: run.startedAt, ...patch })
}

function deps(extra: Partial<ReconcileDeps> = {}): ReconcileDeps {
  return { store, sidecar: sidecar.client(), leaseMs: LEASE_MS, ...extra }
}

describe('reconcileRun', () => {
  it('copies status, steps, reason and endedAt from the job, stepping queued → running → succeeded', async () => {
    const run = await openWithJob('j1')
    sidecar.jobs.set('j1', webJob('j1', run, { status: 'succeeded', steps: steps('succeeded'), endedAt: 1234, startedAt: 1 }))
    const synced = await reconcileRun(run, deps())
    expect(synced).toMatchObject({ status: 'succeeded', steps: steps('succeeded'), endedAt: 1234, reason: null })
    expect(await store.getActiveRun()).toBeNull()
  })

  it('follows a running job and a rolled back one', async () => {
    const run = await openWithJob('j1')
    sidecar.jobs.set('j1', webJob('j1', run, { status: 'running' }))
    expect((await reconcileRun(run, deps())).status).toBe('running')
    sidecar.jobs.set('j1', webJob('j1', run, { status: 'rolled_back', reason: 'web never became healthy', endedAt: 99 }))
    const fresh = (await store.getRun(run.id))!
    expect(await reconcileRun(fresh, deps())).toMatchObject({ status: 'rolled_back', reason: 'web never became healthy', endedAt: 99 })
  })

  it('fails a run whose job the sidecar does not know', async () => {
    const run = await openWithJob('ghost')
    expect(await reconcileRun(run, deps())).toMatchObject({ status: 'failed', reason: 'the updater has no record of job ghost' })
  })

  it('waits for an unreachable sidecar until the lease expires, then fails the run', async () => {
    const run = await openWithJob('j1')
    sidecar.down = true
    const within = await reconcileRun(run, deps({ now: () => run.startedAt + LEASE_MS - 1 }))
    expect(within.status).toBe('queued')
    const after = await reconcileRun(run, deps({ now: () => run.startedAt + LEASE_MS + 1 }))
    expect(after).toMatchObject({ status: 'failed', reason: 'updater unreachable; lease expired' })
  })

  it('fails a run whose dispatch never attached a job after the grace period', async () => {
    const run = await openWithJob(null)
    expect((await reconcileRun(run, deps({ now: () => run.startedAt + 1000 }))).status).toBe('queued')
    const after = await reconcileRun(run, deps({ now: () => run.startedAt + DISPATCH_GRACE_MS + 1 }))
    expect(after).toMatchObject({ status: 'failed', reason: 'dispatch never completed' })
    expect(sidecar.requests).toEqual([LIST_REQUEST, LIST_REQUEST])
  })

  it('attaches the job the sidecar accepted for a run whose dispatch never heard back', async () => {
    const run = await openWithJob(null)
    sidecar.jobs.set('other', makeJob('other', { status: 'succeeded' }))
    sidecar.jobs.set('j9', webJob('j9', run, { status: 'running', steps: steps('running') }))
    const synced = await reconcileRun(run, deps({ now: () => run.startedAt + DISPATCH_GRACE_MS + 1 }))
    expect(synced).toMatchObject({ id: run.id, jobId: 'j9', status: 'running', steps: steps('running') })
  })

  it('does not declare a dispatch lost while the sidecar cannot be asked; the lease decides', async () => {
    const run = await openWithJob(null)
    sidecar.down = true
    expect((await reconcileRun(run, deps({ now: () => run.startedAt + DISPATCH_GRACE_MS + 1 }))).status).toBe('queued')
    const after = await reconcileRun(run, deps({ now: () => run.startedAt + LEASE_MS + 1 }))
    expect(after).toMatchObject({ status: 'failed', reason: 'updater unreachable; lease expired' })
  })

  it('leaves a finished run alone', async () => {
    const run = await openWithJob('j1')
    const failed = await store.updateRun(run.id, { status: 'failed', reason: 'earlier' })
    expect(await reconcileRun(failed, deps())).toEqual(failed)
    expect(sidecar.requests).toEqual([])
  })

  it('keeps the first result when the run ended concurrently', async () => {
    const run = await openWithJob('j1')
    sidecar.jobs.set('j1', webJob('j1', run, { status: 'running' }))
    await reconcileRun(run, deps())
    await store.updateRun(run.id, { status: 'failed', reason: 'ended elsewhere' })
    sidecar.jobs.set('j1', webJob('j1', run, { status: 'succeeded' }))
    // `run` is the stale queued snapshot; the store already says failed.
    expect(await reconcileRun(run, deps())).toMatchObject({ status: 'failed', reason: 'ended elsewhere' })
  })
})

describe('syncFromSidecar', () => {
  it('returns null when neither the store nor the sidecar has anything', async () => {
    expect(await syncFromSidecar(deps())).toBeNull()
    expect(await store.listRuns(10)).toEqual([])
  })

  it('adopts a job the CLI started while it runs, then follows it to its end', async () => {
    sidecar.jobs.set('cli-1', makeJob('cli-1', { status: 'running', createdAt: 500, startedAt: 600, steps: steps('running') }))
    const active = await syncFromSidecar(deps())
    expect(active).toMatchObject({
      jobId: 'cli-1', kind: 'update', fromVersion: '1.2.2', toVersion: '1.3.0', status: 'running', reason: null,
      requestedBy: { email: 'ops@example.com', via: 'cli' }, startedAt: 600, endedAt: null, steps: steps('running'),
    })
    // It holds the single active slot, so the web cannot start another run meanwhile.
    await expect(store.openRun({ kind: 'update', fromVersion: '1.2.2', toVersion: '1.3.0', requestedBy: WEB_USER })).rejects.toBeInstanceOf(ActiveRunError)

    sidecar.jobs.set('cli-1', makeJob('cli-1', { status: 'rolled_back', reason: 'verify failed', createdAt: 500, startedAt: 600, endedAt: 900, steps: steps('failed') }))
    expect(await syncFromSidecar(deps())).toBeNull()
    expect(await store.getRun(active!.id)).toMatchObject({ jobId: 'cli-1', status: 'rolled_back', reason: 'verify failed', endedAt: 900, steps: steps('failed') })
  })

  it('is idempotent: repeated and concurrent syncs adopt a job once', async () => {
    sidecar.jobs.set('cli-1', makeJob('cli-1', { status: 'succeeded', endedAt: 2000 }))
    sidecar.jobs.set('cli-2', makeJob('cli-2', { status: 'running', createdAt: 3000, startedAt: 3001 }))
    await syncFromSidecar(deps())
    await Promise.all([syncFromSidecar(deps()), syncFromSidecar(deps())])
    const runs = await store.listRuns(10)
    expect(runs.map(r => [r.jobId, r.status])).toEqual([['cli-2', 'running'], ['cli-1', 'succeeded']])
  })

  it('adopts finished jobs into the history, started at createdAt when they never started', async () => {
    sidecar.jobs.set('old', makeJob('old', { status: 'failed', reason: 'preflight failed', createdAt: 100, endedAt: 150 }))
    sidecar.jobs.set('newer', makeJob('newer', { kind: 'rollback', fromVersion: '1.3.0', toVersion: '1.2.2', status: 'succeeded', createdAt: 200, startedAt: 210, endedAt: 300 }))
    expect(await syncFromSidecar(deps())).toBeNull()
    const runs = await store.listRuns(10)
    expect(runs).toMatchObject([
      { jobId: 'newer', kind: 'rollback', toVersion: '1.2.2', status: 'succeeded', startedAt: 210, endedAt: 300 },
      { jobId: 'old', status: 'failed', reason: 'preflight failed', startedAt: 100, endedAt: 150 },
    ])
  })

  it('finishes the web\'s own run from the list, without asking for the job again', async () => {
    const run = await openWithJob('w1')
    sidecar.jobs.set('w1', webJob('w1', run, { status: 'succeeded', startedAt: run.startedAt, endedAt: run.startedAt + 5, steps: steps('succeeded') }))
    expect(await syncFromSidecar(deps())).toBeNull()
    expect(await store.getRun(run.id)).toMatchObject({ status: 'succeeded', endedAt: run.startedAt + 5, steps: steps('succeeded'), requestedBy: WEB_USER })
    expect(await store.listRuns(10)).toHaveLength(1)
    expect(sidecar.requests).toEqual([LIST_REQUEST])
  })

  it('ends the store\'s finished run first, so a CLI job that followed it is adopted as active', async () => {
    const run = await openWithJob('w1')
    sidecar.jobs.set('w1', webJob('w1', run, { status: 'failed', reason: 'preflight failed', endedAt: run.startedAt + 1 }))
    sidecar.jobs.set('cli-1', makeJob('cli-1', { status: 'queued', createdAt: run.startedAt + 2 }))
    const active = await syncFromSidecar(deps())
    expect(active).toMatchObject({ jobId: 'cli-1', status: 'queued', requestedBy: { via: 'cli' } })
    expect(await store.getRun(run.id)).toMatchObject({ status: 'failed', reason: 'preflight failed' })
  })

  it('adopts a CLI job only once a web run whose dispatch is in flight has closed', async () => {
    const run = await openWithJob(null)
    sidecar.jobs.set('cli-1', makeJob('cli-1', { status: 'running', createdAt: run.startedAt }))
    const first = await syncFromSidecar(deps({ now: () => run.startedAt + 1 }))
    expect(first?.id).toBe(run.id)
    expect(await store.getRunByJobId('cli-1')).toBeNull()
    // The sidecar refused that dispatch (a job is running), so the web closed the run.
    await store.updateRun(run.id, { status: 'failed', reason: 'the updater refused the job' })
    expect(await syncFromSidecar(deps({ now: () => run.startedAt + 2 }))).toMatchObject({ jobId: 'cli-1', status: 'running' })
  })

  it('gives a web job whose run was closed without it a run of its own, so its outcome is on record', async () => {
    const run = await openWithJob(null)
    await store.updateRun(run.id, { status: 'failed', reason: 'updater unreachable' })
    sidecar.jobs.set('late', webJob('late', run, { status: 'succeeded', startedAt: run.startedAt, endedAt: run.startedAt + 9 }))
    await syncFromSidecar(deps())
    expect(await store.getRun(run.id)).toMatchObject({ status: 'failed', jobId: null })
    expect(await store.getRunByJobId('late')).toMatchObject({ status: 'succeeded', requestedBy: WEB_USER })
  })

  it('leaves the store alone while the sidecar is unreachable within the lease, then fails the run', async () => {
    const run = await openWithJob('w1')
    sidecar.down = true
    const within = await syncFromSidecar(deps({ now: () => run.startedAt + LEASE_MS - 1 }))
    expect(within).toEqual(run)
    expect(await store.listRuns(10)).toEqual([run])
    // One failed list request, not a second one for the job as well.
    expect(sidecar.requests).toEqual([LIST_REQUEST])
    expect(await syncFromSidecar(deps({ now: () => run.startedAt + LEASE_MS + 1 }))).toBeNull()
    expect(await store.getRun(run.id)).toMatchObject({ status: 'failed', reason: 'updater unreachable; lease expired' })
  })

  it('falls back to asking for the job when the list is refused', async () => {
    const run = await openWithJob('w1')
    sidecar.jobs.set('w1', webJob('w1', run, { status: 'running' }))
    const real = sidecar.client()
    const listRefused: ReconcileDeps['sidecar'] = {
      getJob: id => real.getJob(id),
      health: () => real.health(),
      bundle: () => real.bundle(),
      stackChecks: compose => real.stackChecks(compose),
      createJob: request => real.createJob(request),
      listJobs: async () => {
        throw new SidecarRejectedError(502, 'garbled list')
      },
    }
    expect(await syncFromSidecar(deps({ sidecar: listRefused }))).toMatchObject({ id: run.id, status: 'running' })
    expect(sidecar.requests).toEqual(['GET /v1/jobs/w1'])
  })
})

describe('dispatchRun', () => {
  const request: Omit<JobRequest, 'runId'> = {
    kind: 'update',
    targetVersion: '1.3.0',
    manifest: Buffer.from('{}').toString('base64'),
    signature: 'c2ln',
    compose: 'services: {}\n',
    requestedBy: WEB_USER,
    index: { text: '{}', signature: 'c2ln' },
  }

  it('sends the run\'s id with the job and attaches the accepted job', async () => {
    const run = await openWithJob(null)
    const dispatched = await dispatchRun(run, request, deps())
    expect(dispatched).toMatchObject({ id: run.id, jobId: 'job-1', status: 'queued' })
    expect(sidecar.jobs.get('job-1')?.runId).toBe(run.id)
  })

  it.each([
    ['the connection dropped', 'accept-then-drop' as const, {}],
    ['the request timed out', 'accept-then-hang' as const, { timeoutMs: 300 }],
  ])('attaches the job the sidecar accepted although %s', async (_, behaviour, clientOpts) => {
    const run = await openWithJob(null)
    sidecar.onCreate = behaviour
    const dispatched = await dispatchRun(run, request, deps({ sidecar: sidecar.client(clientOpts) }))
    expect(dispatched).toMatchObject({ id: run.id, jobId: 'job-1', status: 'queued', reason: null })
    expect(await store.getActiveRun()).toMatchObject({ id: run.id, jobId: 'job-1' })
    expect(sidecar.requests).toEqual(['POST /v1/jobs', LIST_REQUEST])
  })

  it('closes the run as failed when the sidecar is unreachable and has no job for it', async () => {
    const run = await openWithJob(null)
    sidecar.down = true
    const err = await dispatchRun(run, request, deps()).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(DispatchFailedError)
    expect((err as DispatchFailedError).error).toBeInstanceOf(SidecarUnreachableError)
    expect(await store.getRun(run.id)).toMatchObject({ status: 'failed', jobId: null, reason: expect.stringMatching(/^updater unreachable at /) })
  })

  it('closes the run as failed when the sidecar refuses the job, without looking for one', async () => {
    const run = await openWithJob(null)
    sidecar.onCreate = 'refuse'
    const err = await dispatchRun(run, request, deps()).catch((e: unknown) => e)
    expect(err).toMatchObject({ reason: 'the updater refused the job: a job is still running', error: { status: 409 } })
    expect(await store.getRun(run.id)).toMatchObject({ status: 'failed', reason: 'the updater refused the job: a job is still running' })
    expect(sidecar.requests).toEqual(['POST /v1/jobs'])
  })
})
