/**
 * The audit trail. Mutations append to it in the same transaction as the change they record, so
 * an entry exists exactly when the change does; the web only reads it (through the app that
 * installed the component, with the admin key).
 */
import { v, type Infer } from 'convex/values'
import { query, type MutationCtx } from './_generated/server'
import type { Doc, Id } from './_generated/dataModel'
import { clampLimit, literals } from './model'
import { AUDIT_ACTIONS } from './schema'

export type AuditAction = (typeof AUDIT_ACTIONS)[number]

export async function recordAudit(
  ctx: MutationCtx,
  entry: { action: AuditAction, actor: string | null, runId?: Id<'runs'>, detail: string },
): Promise<void> {
  await ctx.db.insert('audit', { action: entry.action, actor: entry.actor, runId: entry.runId ?? null, detail: entry.detail })
}

const entryValidator = v.object({
  action: literals(AUDIT_ACTIONS),
  actor: v.union(v.string(), v.null()),
  runId: v.union(v.string(), v.null()),
  detail: v.string(),
  at: v.number(),
})

function toEntry(doc: Doc<'audit'>): Infer<typeof entryValidator> {
  return { action: doc.action, actor: doc.actor, runId: doc.runId, detail: doc.detail, at: doc._creationTime }
}

/** The newest entries first. */
export const list = query({
  args: { limit: v.number() },
  returns: v.array(entryValidator),
  handler: async (ctx, { limit }) => {
    const docs = await ctx.db.query('audit').withIndex('by_creation_time').order('desc').take(clampLimit(limit))
    return docs.map(toEntry)
  },
})

/** One run's entries, oldest first. */
export const listForRun = query({
  args: { runId: v.string() },
  returns: v.array(entryValidator),
  handler: async (ctx, { runId }) => {
    const id = ctx.db.normalizeId('runs', runId)
    if (!id) return []
    const docs = await ctx.db.query('audit').withIndex('by_run_id', q => q.eq('runId', id)).collect()
    return docs.map(toEntry)
  },
})
