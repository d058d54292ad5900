// @vitest-environment edge-runtime
/** convex/runs.ts through convex-test: the rules the mutations enforce themselves. */
import { getDocumentSize } from 'convex/values'
import { describe, expect, it } from 'vitest'
import type { Id } from '../../convex/component/_generated/dataModel'
import { RUN_STEPS_BUDGET_BYTES, STEP_LOG_LINE_MAX, type StoredStep } from '../../convex/component/model'
import type { Job } from '../../shared/schemas/job'
import { ALL_STEPS, STEP_LOG_LIMIT } from '../../shared/steps'
import { newBackend, system, type Backend } from './harness'

const request = { kind: 'update', fromVersion: '1.2.2', toVersion: '1.3.0', requestedBy: { email: 'admin@example.com', via: 'web' } } as const

/** The `ConvexError` data a call was refused with. */
async function refusal(call: Promise<unknown>): Promise<unknown> {
  const err = await call.then(() => null, (e: unknown) => e)
  expect(err).toBeInstanceOf(Error)
  return (err as { data?: unknown }).data
}

function storedRun(t: Backend, runId: string) {
  return t.inComponent(ctx => ctx.db.get('runs', runId as Id<'runs'>))
}

describe('runs.open', () => {
  it('refuses a second open while a run is queued or running, naming the active run', async () => {
    const t = newBackend()
    const run = await t.mutation(system.runs.open, request)
    expect(await refusal(t.mutation(system.runs.open, request))).toEqual({ code: 'ACTIVE_RUN', activeRunId: run.id })
    await t.mutation(system.runs.update, { runId: run.id, patch: { status: 'running' } })
    expect(await refusal(t.mutation(system.runs.open, request))).toEqual({ code: 'ACTIVE_RUN', activeRunId: run.id })
  })

  it('lets exactly one of many concurrent opens through (each mutation is one transaction)', async () => {
    const t = newBackend()
    const results = await Promise.allSettled(Array.from({ length: 8 }, () => t.mutation(system.runs.open, request)))
    const won = results.filter(r => r.status === 'fulfilled')
    expect(won).toHaveLength(1)
    const active = await t.inComponent(ctx => ctx.db.query('runs').withIndex('by_status', q => q.eq('status', 'queued')).collect())
    expect(active.map(doc => doc._id)).toEqual([won[0]!.value.id])
  })

  it('records who opened the run in the audit trail, in the same transaction', async () => {
    const t = newBackend()
    const run = await t.mutation(system.runs.open, request)
    await refusal(t.mutation(system.runs.open, request))
    expect(await t.query(system.audit.listForRun, { runId: run.id })).toEqual([
      { action: 'run.opened', actor: 'admin@example.com', runId: run.id, detail: 'update 1.2.2 → 1.3.0 via web', at: expect.any(Number) },
    ])
    // The refused open left nothing behind.
    expect(await t.query(system.audit.list, { limit: 10 })).toHaveLength(1)
  })
})

describe('runs.update', () => {
  it('audits a run closing once, with its outcome', async () => {
    const t = newBackend()
    const run = await t.mutation(system.runs.open, request)
    await t.mutation(system.runs.update, { runId: run.id, patch: { status: 'running' } })
    await t.mutation(system.runs.update, { runId: run.id, patch: { status: 'rolled_back', reason: 'web never became healthy' } })
    await t.mutation(system.runs.update, { runId: run.id, patch: { reason: 'web never became healthy' } })
    const trail = await t.query(system.audit.listForRun, { runId: run.id })
    expect(trail.map(e => e.action)).toEqual(['run.opened', 'run.closed'])
    expect(trail[1]!.detail).toBe('update 1.2.2 → 1.3.0 ended rolled_back: web never became healthy')
  })

  it('refuses an illegal transition with the statuses, and leaves the run as it was', async () => {
    const t = newBackend()
    const run = await t.mutation(system.runs.open, request)
    expect(await refusal(t.mutation(system.runs.update, { runId: run.id, patch: { status: 'succeeded', reason: 'x' } })))
      .toEqual({ code: 'ILLEGAL_TRANSITION', from: 'queued', to: 'succeeded' })
    expect(await t.query(system.runs.get, { runId: run.id })).toEqual(run)
  })

  it('keeps every step log bounded so a run document stays far below Convex\'s 1 MiB', async () => {
    const t = newBackend()
    const run = await t.mutation(system.runs.open, request)
    // Every step at once, each with more and longer lines (2-byte characters) than allowed.
    const steps: StoredStep[] = ALL_STEPS.map(name => ({
      name,
      status: 'running',
      startedAt: 1,
      endedAt: null,
      log: Array.from({ length: STEP_LOG_LIMIT + 50 }, (_, i) => `${name} line ${i} ${'é'.repeat(STEP_LOG_LINE_MAX + 200)}`),
      error: 'x'.repeat(10_000),
    }))
    const updated = await t.mutation(system.runs.update, { runId: run.id, patch: { status: 'running', steps } })
    const doc = (await storedRun(t, run.id))!
    expect(getDocumentSize(doc)).toBeLessThan(RUN_STEPS_BUDGET_BYTES + 4 * 1024)
    expect(getDocumentSize(doc)).toBeLessThan(1024 * 1024 / 2)
    for (const [i, step] of doc.steps.entries()) {
      expect(step.name).toBe(ALL_STEPS[i])
      expect(step.log.length).toBeGreaterThan(0)
      expect(step.log.length).toBeLessThanOrEqual(STEP_LOG_LIMIT)
      for (const line of step.log) expect(line.length).toBeLessThanOrEqual(STEP_LOG_LINE_MAX + 1)
      // The newest lines are the ones kept.
      expect(step.log.at(-1)).toMatch(new RegExp(`^${step.name} line ${STEP_LOG_LIMIT + 49} `))
      expect(step.error!.length).toBeLessThan(10_000)
    }
    expect(updated.steps).toEqual(doc.steps)
  })

  it('stores a normal log untouched', async () => {
    const t = newBackend()
    const run = await t.mutation(system.runs.open, request)
    const steps: StoredStep[] = [{ name: 'pull', status: 'running', startedAt: 1, endedAt: null, log: ['pulling web', 'pulling convex'], error: null }]
    expect((await t.mutation(system.runs.update, { runId: run.id, patch: { status: 'running', steps } })).steps).toEqual(steps)
  })
})

describe('runs.adoptJob and attachJob', () => {
  const job = {
    id: 'cli-1', runId: null, kind: 'rollback', fromVersion: '1.3.0', toVersion: '1.2.2', status: 'succeeded', reason: null,
    requestedBy: { email: 'ops@example.com', via: 'cli' }, createdAt: 4, startedAt: 5, endedAt: 9, steps: [],
  } satisfies Job

  it('adopts a job once, audits it as adopted and closed, and refuses the job to any other run', async () => {
    const t = newBackend()
    const [a, b] = await Promise.all([t.mutation(system.runs.adoptJob, { job }), t.mutation(system.runs.adoptJob, { job })])
    expect(b).toEqual(a)
    expect((await t.query(system.audit.listForRun, { runId: a.id })).map(e => e.action)).toEqual(['run.adopted', 'run.closed'])
    const run = await t.mutation(system.runs.open, request)
    expect(await refusal(t.mutation(system.runs.attachJob, { runId: run.id, jobId: 'cli-1' })))
      .toEqual({ code: 'JOB_TAKEN', jobId: 'cli-1', runId: a.id })
    // Attaching the same job to its own run again is harmless.
    const own = await t.mutation(system.runs.attachJob, { runId: run.id, jobId: 'web-1' })
    expect(await t.mutation(system.runs.attachJob, { runId: run.id, jobId: 'web-1' })).toEqual(own)
  })

  it('reports an id that is not a run as not found', async () => {
    const t = newBackend()
    expect(await refusal(t.mutation(system.runs.attachJob, { runId: 'nope', jobId: 'j' }))).toEqual({ code: 'RUN_NOT_FOUND', runId: 'nope' })
    expect(await t.query(system.runs.get, { runId: 'nope' })).toBeNull()
  })
})
