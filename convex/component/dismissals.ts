/** Release notifications an admin dismissed, per admin and per version. */
import { v } from 'convex/values'
import { mutation, query, type QueryCtx } from './_generated/server'
import { recordAudit } from './audit'

function find(ctx: QueryCtx, userId: string, version: string) {
  return ctx.db.query('dismissals').withIndex('by_user_id_and_version', q => q.eq('userId', userId).eq('version', version)).first()
}

/**
 * Idempotent: dismissing twice keeps the first dismissal (and its audit entry). The admin comes
 * from whoever signed them in (the host's user resolver), so the email is passed, not looked up.
 */
export const dismiss = mutation({
  args: { userId: v.string(), email: v.string(), version: v.string() },
  returns: v.null(),
  handler: async (ctx, { userId, email, version }) => {
    if (await find(ctx, userId, version)) return null
    await ctx.db.insert('dismissals', { userId, version, dismissedAt: Date.now() })
    await recordAudit(ctx, { action: 'release.dismissed', actor: email, detail: `dismissed ${version}` })
    return null
  },
})

export const isDismissed = query({
  args: { userId: v.string(), version: v.string() },
  returns: v.boolean(),
  handler: async (ctx, { userId, version }) => (await find(ctx, userId, version)) !== null,
})
