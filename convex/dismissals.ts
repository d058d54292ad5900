/** Release notifications an admin dismissed, per admin and per version. */
import { v } from 'convex/values'
import { internalMutation, internalQuery, type QueryCtx } from './_generated/server'
import { recordAudit } from './audit'

function find(ctx: QueryCtx, userId: string, version: string) {
  return ctx.db.query('dismissals').withIndex('by_user_id_and_version', q => q.eq('userId', userId).eq('version', version)).first()
}

/** Idempotent: dismissing twice keeps the first dismissal (and its audit entry). */
export const dismiss = internalMutation({
  args: { userId: v.string(), version: v.string() },
  returns: v.null(),
  handler: async (ctx, { userId, version }) => {
    if (await find(ctx, userId, version)) return null
    await ctx.db.insert('dismissals', { userId, version, dismissedAt: Date.now() })
    const userDocId = ctx.db.normalizeId('users', userId)
    const user = userDocId ? await ctx.db.get('users', userDocId) : null
    await recordAudit(ctx, { action: 'release.dismissed', actor: user?.email ?? userId, detail: `dismissed ${version}` })
    return null
  },
})

export const isDismissed = internalQuery({
  args: { userId: v.string(), version: v.string() },
  returns: v.boolean(),
  handler: async (ctx, { userId, version }) => (await find(ctx, userId, version)) !== null,
})
