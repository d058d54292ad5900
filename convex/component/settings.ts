/** Instance settings (the release channel). Unset settings read as the defaults. */
import { v } from 'convex/values'
import { mutation, query, type QueryCtx } from './_generated/server'
import { recordAudit } from './audit'
import { channelValidator, settingsValidator } from './model'

/** The same default as the SQLite store's `DEFAULT_SETTINGS`. */
const DEFAULT_CHANNEL = 'stable'

function current(ctx: QueryCtx) {
  return ctx.db.query('settings').withIndex('by_scope', q => q.eq('scope', 'instance')).unique()
}

export const get = query({
  args: {},
  returns: settingsValidator,
  handler: async ctx => ({ channel: (await current(ctx))?.channel ?? DEFAULT_CHANNEL }),
})

/** `actor`: the email of the admin who changed them, for the audit trail (null: none known). */
export const update = mutation({
  args: { channel: v.optional(channelValidator), actor: v.union(v.string(), v.null()) },
  returns: settingsValidator,
  handler: async (ctx, { channel, actor }) => {
    const doc = await current(ctx)
    const before = doc?.channel ?? DEFAULT_CHANNEL
    if (channel !== undefined && channel !== before) {
      if (doc) await ctx.db.patch('settings', doc._id, { channel })
      else await ctx.db.insert('settings', { scope: 'instance', channel })
      await recordAudit(ctx, { action: 'settings.changed', actor, detail: `channel: ${before} → ${channel}` })
    }
    return { channel: channel ?? before }
  },
})
