// @vitest-environment edge-runtime
/** convex/acknowledgements.ts through convex-test, and the store adapter on top of it. */
import { describe, expect, it } from 'vitest'
import { createConvexStore } from '../../server/utils/store/convex'
import { RunNotFoundError } from '../../server/utils/store/types'
import { newBackend, system, testCaller } from './harness'

describe('run acknowledgements', () => {
  it('keeps the first acknowledgement of a run, audits it, and refuses unknown runs', async () => {
    const t = newBackend()
    const store = createConvexStore(testCaller(t))
    const run = await store.openRun({ kind: 'update', fromVersion: '1.2.2', toVersion: '1.3.0', requestedBy: { email: 'admin@example.com', via: 'web' } })
    await store.updateRun(run.id, { status: 'failed', reason: 'preflight failed' })

    expect(await store.getAcknowledgement(run.id)).toBeNull()
    const first = await store.acknowledgeRun(run.id, { userId: 'u1', email: 'admin@example.com' })
    expect(first).toEqual({ runId: run.id, userId: 'u1', email: 'admin@example.com', acknowledgedAt: expect.any(Number) })
    expect(await store.acknowledgeRun(run.id, { userId: 'u2', email: 'other@example.com' })).toEqual(first)
    expect(await store.getAcknowledgement(run.id)).toEqual(first)

    const trail = await t.query(system.audit.list, { limit: 10 })
    expect(trail.filter(e => e.action === 'run.acknowledged')).toEqual([
      { action: 'run.acknowledged', actor: 'admin@example.com', runId: run.id, detail: 'acknowledged update 1.2.2 → 1.3.0 (failed)', at: expect.any(Number) },
    ])

    await expect(store.acknowledgeRun('no-such-run', { userId: 'u1', email: 'admin@example.com' })).rejects.toBeInstanceOf(RunNotFoundError)
    expect(await store.getAcknowledgement('no-such-run')).toBeNull()
  })

  it('accepts a job carrying the backup it took when adopting it', async () => {
    const store = createConvexStore(testCaller(newBackend()))
    const run = await store.adoptJob({
      id: 'job-1',
      runId: null,
      kind: 'update',
      fromVersion: '1.2.2',
      toVersion: '1.3.0',
      status: 'succeeded',
      reason: null,
      requestedBy: { email: null, via: 'cli' },
      createdAt: 1,
      startedAt: 2,
      endedAt: 3,
      steps: [],
      backup: { path: '/opt/owlat/backups/job-1', createdAt: 2, sizeBytes: 10 },
    })
    expect(run).toMatchObject({ jobId: 'job-1', status: 'succeeded' })
  })
})
