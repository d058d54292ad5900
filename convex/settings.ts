/**
 * Instance settings (the release channel). Unset settings read as the defaults. The store
 * interface carries no actor for a settings change, so its audit entry has none.
 */
import { v } from 'convex/values'
import { internalMutation, internalQuery, type QueryCtx } from './_generated/server'
import { recordAudit } from './audit'
import { channelValidator, settingsValidator } from './model'

/** The same default as the SQLite store's `DEFAULT_SETTINGS`. */
const DEFAULT_CHANNEL = 'stable'

function current(ctx: QueryCtx) {
  return ctx.db.query('settings').withIndex('by_scope', q => q.eq('scope', 'instance')).unique()
}

export const get = internalQuery({
  args: {},
  returns: settingsValidator,
  handler: async ctx => ({ channel: (await current(ctx))?.channel ?? DEFAULT_CHANNEL }),
})

export const update = internalMutation({
  args: { channel: v.optional(channelValidator) },
  returns: settingsValidator,
  handler: async (ctx, { channel }) => {
    const doc = await current(ctx)
    const before = doc?.channel ?? DEFAULT_CHANNEL
    if (channel !== undefined && channel !== before) {
      if (doc) await ctx.db.patch('settings', doc._id, { channel })
      else await ctx.db.insert('settings', { scope: 'instance', channel })
      await recordAudit(ctx, { action: 'settings.changed', actor: null, detail: `channel: ${before} → ${channel}` })
    }
    return { channel: channel ?? before }
  },
})
