/**
 * Update and rollback runs with their steps. Every rule the store promises is enforced here,
 * inside the mutation: Convex runs each mutation as one serializable transaction (conflicting
 * concurrent ones are retried against the new state), so two concurrent opens cannot both see
 * "no active run", and a job id cannot be recorded twice.
 */
import { v } from 'convex/values'
import { canTransition, isActiveStatus, isTerminalStatus, queuedRun, runOfJob } from '../../shared/run-state'
import { mutation, query, type MutationCtx, type QueryCtx } from './_generated/server'
import type { Doc, Id } from './_generated/dataModel'
import { recordAudit } from './audit'
import {
  boundSteps, clampLimit, clipMessage, jobValidator, newRunFields, runPatchValidator, runValidator, storeError, toRunView,
} from './model'

async function activeRun(ctx: QueryCtx): Promise<Doc<'runs'> | null> {
  return await ctx.db.query('runs').withIndex('by_status', q => q.eq('status', 'queued')).first()
    ?? await ctx.db.query('runs').withIndex('by_status', q => q.eq('status', 'running')).first()
}

async function runByJobId(ctx: QueryCtx, jobId: string): Promise<Doc<'runs'> | null> {
  return await ctx.db.query('runs').withIndex('by_job_id', q => q.eq('jobId', jobId)).unique()
}

async function requireRun(ctx: QueryCtx, runId: string): Promise<Doc<'runs'>> {
  const id = ctx.db.normalizeId('runs', runId)
  const doc = id ? await ctx.db.get('runs', id) : null
  if (!doc) throw storeError({ code: 'RUN_NOT_FOUND', runId })
  return doc
}

async function refuseWhileActive(ctx: QueryCtx): Promise<void> {
  const active = await activeRun(ctx)
  if (active) throw storeError({ code: 'ACTIVE_RUN', activeRunId: active._id })
}

/** An admin's override of failing checks gets its own entry, with the reason, beside the run's. */
async function auditOverride(ctx: MutationCtx, runId: Id<'runs'>, doc: Pick<Doc<'runs'>, 'override' | 'requestedBy' | 'kind' | 'toVersion'>): Promise<void> {
  if (!doc.override) return
  await recordAudit(ctx, {
    action: 'checks.ignored',
    actor: doc.requestedBy.email,
    runId,
    detail: `${doc.kind} to ${doc.toVersion} despite failing checks (${doc.override.checks.join(', ') || 'none listed'}): ${doc.override.reason}`,
  })
}

async function auditClosed(ctx: MutationCtx, runId: Id<'runs'>, doc: Doc<'runs'>): Promise<void> {
  await recordAudit(ctx, {
    action: 'run.closed',
    actor: null,
    runId,
    detail: `${doc.kind} ${doc.fromVersion} → ${doc.toVersion} ended ${doc.status}${doc.reason ? `: ${doc.reason}` : ''}`,
  })
}

/** Opens a `queued` run; refused while another run is queued or running. */
export const open = mutation({
  args: newRunFields,
  returns: runValidator,
  handler: async (ctx, run) => {
    await refuseWhileActive(ctx)
    const id = await ctx.db.insert('runs', queuedRun(run, Date.now()))
    await recordAudit(ctx, {
      action: 'run.opened',
      actor: run.requestedBy.email,
      runId: id,
      detail: `${run.kind} ${run.fromVersion} → ${run.toVersion} via ${run.requestedBy.via}`,
    })
    await auditOverride(ctx, id, run)
    return toRunView((await ctx.db.get('runs', id))!)
  },
})

/** Records the sidecar job that carries a run; a job belongs to one run at most. */
export const attachJob = mutation({
  args: { runId: v.string(), jobId: v.string() },
  returns: runValidator,
  handler: async (ctx, { runId, jobId }) => {
    const run = await requireRun(ctx, runId)
    const holder = await runByJobId(ctx, jobId)
    if (holder && holder._id !== run._id) throw storeError({ code: 'JOB_TAKEN', jobId, runId: holder._id })
    await ctx.db.patch('runs', run._id, { jobId })
    return toRunView((await ctx.db.get('runs', run._id))!)
  },
})

/**
 * Applies a sync from the sidecar or a reconciliation. A status change must be a legal
 * transition; reaching a terminal status stamps `endedAt` unless the patch or the run has one.
 */
export const update = mutation({
  args: {
    runId: v.string(),
    patch: runPatchValidator,
  },
  returns: runValidator,
  handler: async (ctx, { runId, patch }) => {
    const run = await requireRun(ctx, runId)
    if (patch.status && !canTransition(run.status, patch.status)) {
      throw storeError({ code: 'ILLEGAL_TRANSITION', from: run.status, to: patch.status })
    }
    const status = patch.status ?? run.status
    const endedAt = patch.endedAt !== undefined
      ? patch.endedAt
      : run.endedAt ?? (patch.status && isTerminalStatus(patch.status) ? Date.now() : null)
    await ctx.db.patch('runs', run._id, {
      status,
      endedAt,
      ...(patch.steps ? { steps: boundSteps(patch.steps) } : {}),
      ...(patch.reason !== undefined ? { reason: clipMessage(patch.reason) } : {}),
    })
    const updated = (await ctx.db.get('runs', run._id))!
    if (isActiveStatus(run.status) && !isActiveStatus(status)) await auditClosed(ctx, run._id, updated)
    return toRunView(updated)
  },
})

export const get = query({
  args: { runId: v.string() },
  returns: v.union(runValidator, v.null()),
  handler: async (ctx, { runId }) => {
    const id = ctx.db.normalizeId('runs', runId)
    const doc = id ? await ctx.db.get('runs', id) : null
    return doc ? toRunView(doc) : null
  },
})

export const getByJobId = query({
  args: { jobId: v.string() },
  returns: v.union(runValidator, v.null()),
  handler: async (ctx, { jobId }) => {
    const doc = await runByJobId(ctx, jobId)
    return doc ? toRunView(doc) : null
  },
})

/**
 * Records a job the web did not dispatch (the CLI's) as a run of its own. Idempotent per job id;
 * an active job obeys the single-active rule like `open`.
 */
export const adoptJob = mutation({
  args: { job: jobValidator },
  returns: runValidator,
  handler: async (ctx, { job }) => {
    const existing = await runByJobId(ctx, job.id)
    if (existing) return toRunView(existing)
    if (isActiveStatus(job.status)) await refuseWhileActive(ctx)
    const adopted = runOfJob(job)
    const id = await ctx.db.insert('runs', { ...adopted, reason: clipMessage(adopted.reason), steps: boundSteps(adopted.steps) })
    await recordAudit(ctx, {
      action: 'run.adopted',
      actor: job.requestedBy.email,
      runId: id,
      detail: `${job.kind} ${job.fromVersion} → ${job.toVersion} via ${job.requestedBy.via} (job ${job.id}, ${job.status})`,
    })
    const doc = (await ctx.db.get('runs', id))!
    await auditOverride(ctx, id, doc)
    if (!isActiveStatus(doc.status)) await auditClosed(ctx, id, doc)
    return toRunView(doc)
  },
})

export const getActive = query({
  args: {},
  returns: v.union(runValidator, v.null()),
  handler: async (ctx) => {
    const doc = await activeRun(ctx)
    return doc ? toRunView(doc) : null
  },
})

/** Newest first. */
export const list = query({
  args: { limit: v.number() },
  returns: v.array(runValidator),
  handler: async (ctx, { limit }) => {
    const docs = await ctx.db.query('runs').withIndex('by_started_at').order('desc').take(clampLimit(limit))
    return docs.map(toRunView)
  },
})
