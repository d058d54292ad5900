/** Acknowledgements of failed or rolled-back runs: the banner about a run goes once an admin acknowledged it. */
import { v } from 'convex/values'
import type { Doc, Id } from './_generated/dataModel'
import { mutation, query, type QueryCtx } from './_generated/server'
import { recordAudit } from './audit'
import { acknowledgementValidator, storeError } from './model'

function find(ctx: QueryCtx, runId: Id<'runs'>) {
  return ctx.db.query('runAcknowledgements').withIndex('by_run_id', q => q.eq('runId', runId)).unique()
}

function toView({ _id, _creationTime, ...acknowledgement }: Doc<'runAcknowledgements'>) {
  return acknowledgement
}

/** Idempotent: acknowledging twice keeps (and returns) the first acknowledgement. */
export const acknowledge = mutation({
  args: { runId: v.string(), userId: v.string(), email: v.string() },
  returns: acknowledgementValidator,
  handler: async (ctx, { runId, userId, email }) => {
    const id = ctx.db.normalizeId('runs', runId)
    const run = id ? await ctx.db.get('runs', id) : null
    if (!id || !run) throw storeError({ code: 'RUN_NOT_FOUND', runId })
    const existing = await find(ctx, id)
    if (existing) return toView(existing)
    const docId = await ctx.db.insert('runAcknowledgements', { runId: id, userId, email, acknowledgedAt: Date.now() })
    await recordAudit(ctx, { action: 'run.acknowledged', actor: email, runId: id, detail: `acknowledged ${run.kind} ${run.fromVersion} → ${run.toVersion} (${run.status})` })
    return toView((await ctx.db.get('runAcknowledgements', docId))!)
  },
})

export const get = query({
  args: { runId: v.string() },
  returns: v.union(acknowledgementValidator, v.null()),
  handler: async (ctx, { runId }) => {
    const id = ctx.db.normalizeId('runs', runId)
    const doc = id ? await find(ctx, id) : null
    return doc ? toView(doc) : null
  },
})
