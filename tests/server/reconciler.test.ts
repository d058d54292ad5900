/**
 * The scheduled reconciliation (server/utils/reconciler.ts) against a real SQLite store and the
 * loopback stand-in for the sidecar: runs started elsewhere are adopted and ended without any
 * route asking, concurrent syncs share one request, and known jobs are not looked up again.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createReconciler } from '../../server/utils/reconciler'
import { SYNC_JOB_LIMIT } from '../../server/utils/runs'
import { openSqliteStore } from '../../server/utils/store/sqlite'
import type { SystemStore } from '../../server/utils/store/types'
import { makeJob, startFakeSidecar, type FakeSidecar } from './fake-sidecar'

const LIST_REQUEST = `GET /v1/jobs?limit=${SYNC_JOB_LIMIT}`
let dir: string
let store: SystemStore
let sidecar: FakeSidecar

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'owlat-reconciler-'))
  store = openSqliteStore(join(dir, 'web.sqlite'))
  sidecar = await startFakeSidecar()
})

afterEach(async () => {
  await sidecar.close()
  await store.close()
  rmSync(dir, { recursive: true, force: true })
})

const deps = () => ({ store, sidecar: sidecar.client(), leaseMs: 600_000 })

async function until<T>(probe: () => Promise<T | undefined>): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const value = await probe()
    if (value !== undefined) return value
    await new Promise(resolve => setTimeout(resolve, 20))
  }
  throw new Error('timed out')
}

describe('createReconciler', () => {
  it('adopts a job started elsewhere and follows it to its end on its own schedule', async () => {
    const reconciler = createReconciler(deps, { activeMs: 20, idleMs: 20 })
    sidecar.jobs.set('cli-1', makeJob('cli-1', { status: 'running', requestedBy: { email: null, via: 'cli' } }))
    reconciler.start()
    try {
      const adopted = await until(async () => (await store.getActiveRun()) ?? undefined)
      expect(adopted).toMatchObject({ jobId: 'cli-1', status: 'running' })
      sidecar.jobs.set('cli-1', { ...sidecar.jobs.get('cli-1')!, status: 'succeeded', endedAt: 5 })
      const ended = await until(async () => {
        const run = await store.getRun(adopted.id)
        return run?.status === 'succeeded' ? run : undefined
      })
      expect(ended).toMatchObject({ jobId: 'cli-1', endedAt: 5 })
    }
    finally {
      reconciler.stop()
    }
  })

  it('shares one sync between concurrent callers, and looks a known job up only once', async () => {
    const reconciler = createReconciler(deps)
    sidecar.jobs.set('done-1', makeJob('done-1', { status: 'succeeded', endedAt: 2 }))
    await Promise.all([reconciler.sync(), reconciler.sync(), reconciler.sync()])
    expect(sidecar.requests.filter(r => r === LIST_REQUEST)).toHaveLength(1)
    const [run] = await store.listRuns(10)
    expect(run).toMatchObject({ jobId: 'done-1', status: 'succeeded' })

    // The store is asked about the job once; later syncs know it has a run.
    let lookups = 0
    const counting: SystemStore = { ...store, getRunByJobId: (id) => {
      lookups += 1
      return store.getRunByJobId(id)
    } }
    const counted = createReconciler(() => ({ ...deps(), store: counting }))
    await counted.sync()
    await counted.sync()
    expect(lookups).toBe(1)
  })

  it('asks often while the run replaces the web, and at the active pace otherwise', async () => {
    const step = (name: 'pull' | 'recreate') => ({ name, status: 'running' as const, startedAt: 2_000, endedAt: null, log: [], error: null })
    const listings = async (running: 'pull' | 'recreate') => {
      sidecar.jobs.clear()
      sidecar.requests.length = 0
      sidecar.jobs.set('cli-1', makeJob('cli-1', { status: 'running', startedAt: 2_000, steps: [step(running)] }))
      const reconciler = createReconciler(deps, { activeMs: 60_000, idleMs: 60_000, webChangingMs: 20 })
      reconciler.start()
      await new Promise(resolve => setTimeout(resolve, 400))
      reconciler.stop()
      return sidecar.requests.filter(r => r === LIST_REQUEST).length
    }
    expect(await listings('pull')).toBe(1)
    expect(await listings('recreate')).toBeGreaterThanOrEqual(4)
  })

  it('stops asking once stopped', async () => {
    const reconciler = createReconciler(deps, { activeMs: 10, idleMs: 10 })
    reconciler.start()
    await until(async () => (sidecar.requests.includes(LIST_REQUEST) ? true : undefined))
    reconciler.stop()
    await new Promise(resolve => setTimeout(resolve, 50))
    const seen = sidecar.requests.length
    await new Promise(resolve => setTimeout(resolve, 100))
    expect(sidecar.requests.length).toBe(seen)
  })
})
