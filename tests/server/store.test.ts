import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Step } from '../../shared/schemas/common'
import type { Job } from '../../shared/schemas/job'
import type { Release } from '../../shared/schemas/release'
import { openSqliteStore } from '../../server/utils/store/sqlite'
import { ActiveRunError, DuplicateUserError, RunNotFoundError, type NewRun, type SystemStore } from '../../server/utils/store/types'

const newRun: NewRun = { kind: 'update', fromVersion: '1.2.2', toVersion: '1.3.0', requestedBy: { email: 'admin@example.com', via: 'web' } }

const release: Release = {
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

let dir: string
let file: string
let store: SystemStore

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'owlat-store-'))
  file = join(dir, 'web.sqlite')
  store = openSqliteStore(file)
})

afterEach(async () => {
  await store.close()
  rmSync(dir, { recursive: true, force: true })
})

describe('users', () => {
  it('creates users with lower-cased emails and finds them by email and id', async () => {
    const user = await store.createUser({ email: 'Admin@Example.com', role: 'platform-admin', passwordHash: 'h' })
    expect(user.email).toBe('admin@example.com')
    expect(await store.getUserByEmail('ADMIN@example.com')).toEqual(user)
    expect(await store.getUserById(user.id)).toEqual(user)
    expect(await store.getUserByEmail('nobody@example.com')).toBeNull()
  })

  it('refuses a second user with the same email', async () => {
    await store.createUser({ email: 'a@example.com', role: 'member', passwordHash: 'h' })
    await expect(store.createUser({ email: 'A@example.com', role: 'member', passwordHash: 'h2' })).rejects.toBeInstanceOf(DuplicateUserError)
  })
})

describe('runs', () => {
  it('opens a queued run and allows only one active run', async () => {
    const run = await store.openRun(newRun)
    expect(run).toMatchObject({ status: 'queued', jobId: null, fromVersion: '1.2.2', toVersion: '1.3.0', endedAt: null, steps: [] })
    const err = await store.openRun(newRun).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ActiveRunError)
    expect((err as ActiveRunError).activeRunId).toBe(run.id)
    expect((await store.getActiveRun())?.id).toBe(run.id)
  })

  it('lets exactly one of two concurrent opens win, across connections', async () => {
    const other = openSqliteStore(file)
    try {
      const results = await Promise.allSettled([store.openRun(newRun), other.openRun(newRun), store.openRun(newRun)])
      expect(results.filter(r => r.status === 'fulfilled')).toHaveLength(1)
      const rejected = results.filter(r => r.status === 'rejected')
      expect(rejected).toHaveLength(2)
      for (const r of rejected) expect(r.reason).toBeInstanceOf(ActiveRunError)
    }
    finally {
      await other.close()
    }
  })

  it('opens a new run once the active one ended', async () => {
    const first = await store.openRun(newRun)
    await store.updateRun(first.id, { status: 'failed', reason: 'boom' })
    const second = await store.openRun(newRun)
    expect(second.id).not.toBe(first.id)
  })

  it('follows the state machine and stamps endedAt on a terminal status', async () => {
    const run = await store.openRun(newRun)
    await store.attachJob(run.id, 'job-1')
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
  })

  it('refuses queued → succeeded and keeps an explicit endedAt', async () => {
    const run = await store.openRun(newRun)
    await expect(store.updateRun(run.id, { status: 'succeeded' })).rejects.toThrow(/illegal/)
    const failed = await store.updateRun(run.id, { status: 'failed', reason: 'why', endedAt: 42 })
    expect(failed).toMatchObject({ status: 'failed', reason: 'why', endedAt: 42 })
  })

  it('reports unknown runs', async () => {
    expect(await store.getRun('nope')).toBeNull()
    await expect(store.updateRun('nope', { status: 'failed' })).rejects.toBeInstanceOf(RunNotFoundError)
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
  })

  it('keeps everything across reopening the file', async () => {
    const run = await store.openRun(newRun)
    await store.close()
    store = openSqliteStore(file)
    expect((await store.getActiveRun())?.id).toBe(run.id)
  })
})

describe('adopting sidecar jobs', () => {
  const steps: Step[] = [{ name: 'preflight', status: 'running', startedAt: 5, endedAt: null, log: ['checking'], error: null }]
  const cliJob: Job = {
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
    steps,
  }

  it('records a job as a run with the job\'s fields, found by its job id', async () => {
    const run = await store.adoptJob(cliJob)
    expect(run).toEqual({
      id: expect.any(String), jobId: 'cli-job-1', kind: 'rollback', fromVersion: '1.3.0', toVersion: '1.2.2', status: 'running',
      reason: null, requestedBy: { email: 'ops@example.com', via: 'cli' }, startedAt: 5, endedAt: null, steps,
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

  it('is idempotent, also across connections', async () => {
    const other = openSqliteStore(file)
    try {
      const [a, b, c] = await Promise.all([store.adoptJob(cliJob), other.adoptJob(cliJob), store.adoptJob({ ...cliJob, status: 'succeeded' })])
      expect(b).toEqual(a)
      expect(c).toEqual(a)
      expect(await store.listRuns(10)).toHaveLength(1)
    }
    finally {
      await other.close()
    }
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
  })
})

describe('dismissals', () => {
  it('are per user and per version, and idempotent', async () => {
    await store.dismiss('u1', '1.3.0')
    await store.dismiss('u1', '1.3.0')
    expect(await store.isDismissed('u1', '1.3.0')).toBe(true)
    expect(await store.isDismissed('u2', '1.3.0')).toBe(false)
    expect(await store.isDismissed('u1', '1.3.1')).toBe(false)
  })
})

describe('release cache', () => {
  it('starts empty and keeps what was saved', async () => {
    expect(await store.getReleaseCache()).toEqual({ releases: [], checkedAt: null, error: null })
    await store.saveReleaseCache({ releases: [release], checkedAt: 10, error: null })
    expect(await store.getReleaseCache()).toEqual({ releases: [release], checkedAt: 10, error: null })
    await store.saveReleaseCache({ releases: [release], checkedAt: 20, error: 'source down' })
    expect(await store.getReleaseCache()).toEqual({ releases: [release], checkedAt: 20, error: 'source down' })
  })
})

describe('settings', () => {
  it('defaults to the stable channel and persists a change', async () => {
    expect(await store.getSettings()).toEqual({ channel: 'stable' })
    expect(await store.updateSettings({ channel: 'beta' })).toEqual({ channel: 'beta' })
    expect(await store.getSettings()).toEqual({ channel: 'beta' })
  })
})
