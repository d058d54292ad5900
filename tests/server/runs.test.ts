import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Run } from '../../shared/schemas/api'
import type { Job } from '../../shared/schemas/job'
import { DISPATCH_GRACE_MS, reconcileActiveRun, reconcileRun, type ReconcileDeps } from '../../server/utils/runs'
import { SidecarRejectedError, SidecarUnreachableError, type SidecarClient } from '../../server/utils/sidecar'
import { openSqliteStore } from '../../server/utils/store/sqlite'
import type { SystemStore } from '../../server/utils/store/types'

const LEASE_MS = 10 * 60_000

/** Answers getJob from a map; throws what `jobError` says instead when set. */
function fakeSidecar(jobs: Map<string, Job>, jobError: () => Error | null = () => null): SidecarClient {
  return {
    createJob: async () => {
      throw new Error('not used here')
    },
    getJob: async (id) => {
      const err = jobError()
      if (err) throw err
      const job = jobs.get(id)
      if (!job) throw new SidecarRejectedError(404, `no job ${id}`)
      return job
    },
    health: async () => {
      throw new Error('not used here')
    },
  }
}

function job(id: string, run: Run, patch: Partial<Job>): Job {
  return {
    id,
    runId: run.id,
    kind: run.kind,
    fromVersion: run.fromVersion,
    toVersion: run.toVersion,
    status: 'queued',
    reason: null,
    requestedBy: run.requestedBy,
    createdAt: run.startedAt,
    startedAt: null,
    endedAt: null,
    steps: [],
    ...patch,
  }
}

let dir: string
let store: SystemStore
let jobs: Map<string, Job>

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'owlat-runs-'))
  store = openSqliteStore(join(dir, 'web.sqlite'))
  jobs = new Map()
})

afterEach(async () => {
  await store.close()
  rmSync(dir, { recursive: true, force: true })
})

async function openWithJob(jobId: string | null): Promise<Run> {
  const run = await store.openRun({ kind: 'update', fromVersion: '1.2.2', toVersion: '1.3.0', requestedBy: { email: 'a@example.com', via: 'web' } })
  return jobId ? store.attachJob(run.id, jobId) : run
}

function deps(extra: Partial<ReconcileDeps> = {}): ReconcileDeps {
  return { store, sidecar: fakeSidecar(jobs), leaseMs: LEASE_MS, ...extra }
}

describe('reconcileRun', () => {
  it('copies status, steps, reason and endedAt from the job, stepping queued → running → succeeded', async () => {
    const run = await openWithJob('j1')
    const steps = [{ name: 'preflight' as const, status: 'succeeded' as const, startedAt: 1, endedAt: 2, log: ['fine'], error: null }]
    jobs.set('j1', job('j1', run, { status: 'succeeded', steps, endedAt: 1234, startedAt: 1 }))
    const synced = await reconcileRun(run, deps())
    expect(synced).toMatchObject({ status: 'succeeded', steps, endedAt: 1234, reason: null })
    expect(await store.getActiveRun()).toBeNull()
  })

  it('follows a running job and a rolled back one', async () => {
    const run = await openWithJob('j1')
    jobs.set('j1', job('j1', run, { status: 'running' }))
    expect((await reconcileRun(run, deps())).status).toBe('running')
    jobs.set('j1', job('j1', run, { status: 'rolled_back', reason: 'web never became healthy', endedAt: 99 }))
    const fresh = (await store.getRun(run.id))!
    expect(await reconcileRun(fresh, deps())).toMatchObject({ status: 'rolled_back', reason: 'web never became healthy', endedAt: 99 })
  })

  it('fails a run whose job the sidecar does not know', async () => {
    const run = await openWithJob('ghost')
    expect(await reconcileRun(run, deps())).toMatchObject({ status: 'failed', reason: 'the updater has no record of job ghost' })
  })

  it('waits for an unreachable sidecar until the lease expires, then fails the run', async () => {
    const run = await openWithJob('j1')
    const sidecar = fakeSidecar(jobs, () => new SidecarUnreachableError('http://127.0.0.1:1', new Error('ECONNREFUSED')))
    const within = await reconcileRun(run, deps({ sidecar, now: () => run.startedAt + LEASE_MS - 1 }))
    expect(within.status).toBe('queued')
    const after = await reconcileRun(run, deps({ sidecar, now: () => run.startedAt + LEASE_MS + 1 }))
    expect(after).toMatchObject({ status: 'failed', reason: 'updater unreachable; lease expired' })
  })

  it('fails a run whose dispatch never attached a job after the grace period', async () => {
    const run = await openWithJob(null)
    expect((await reconcileRun(run, deps({ now: () => run.startedAt + 1000 }))).status).toBe('queued')
    const after = await reconcileRun(run, deps({ now: () => run.startedAt + DISPATCH_GRACE_MS + 1 }))
    expect(after).toMatchObject({ status: 'failed', reason: 'dispatch never completed' })
  })

  it('leaves a finished run alone', async () => {
    const run = await openWithJob('j1')
    const failed = await store.updateRun(run.id, { status: 'failed', reason: 'earlier' })
    expect(await reconcileRun(failed, deps())).toEqual(failed)
  })

  it('keeps the first result when the run ended concurrently', async () => {
    const run = await openWithJob('j1')
    jobs.set('j1', job('j1', run, { status: 'running' }))
    await reconcileRun(run, deps())
    await store.updateRun(run.id, { status: 'failed', reason: 'ended elsewhere' })
    jobs.set('j1', job('j1', run, { status: 'succeeded' }))
    // `run` is the stale queued snapshot; the store already says failed.
    expect(await reconcileRun(run, deps())).toMatchObject({ status: 'failed', reason: 'ended elsewhere' })
  })
})

describe('reconcileActiveRun', () => {
  it('returns null without an active run and the reconciled run otherwise', async () => {
    expect(await reconcileActiveRun(deps())).toBeNull()
    const run = await openWithJob('j1')
    jobs.set('j1', job('j1', run, { status: 'running' }))
    expect((await reconcileActiveRun(deps()))?.status).toBe('running')
  })
})
