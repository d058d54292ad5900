/** Instance settings (the release channel, the automatic update policy). Unset settings read as the defaults. */
import { v } from 'convex/values'
import { mutation, query, type QueryCtx } from './_generated/server'
import type { Doc } from './_generated/dataModel'
import { recordAudit } from './audit'
import { settingsPatchFields, settingsValidator } from './model'
import { DEFAULT_SETTINGS, mergeSettings, type Settings as SystemSettings } from '../../shared/schemas/api'

function current(ctx: QueryCtx) {
  return ctx.db.query('settings').withIndex('by_scope', q => q.eq('scope', 'instance')).unique()
}

/** The document as settings, the defaults (the SQLite store's `DEFAULT_SETTINGS`) filling what it lacks. */
function toSettings(doc: Doc<'settings'> | null): SystemSettings {
  if (!doc) return DEFAULT_SETTINGS
  const { _id, _creationTime, scope, ...stored } = doc
  return mergeSettings(DEFAULT_SETTINGS, stored)
}

function shown(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value)
}

export const get = query({
  args: {},
  returns: settingsValidator,
  handler: async ctx => toSettings(await current(ctx)),
})

/**
 * Applies the fields given, validated as a whole (`mergeSettings` throws on bad input, and the
 * transaction then writes nothing). `actor`: the email of the admin who changed them, for the
 * audit trail (null: none known); each changed field is one line of its detail.
 */
export const update = mutation({
  args: { ...settingsPatchFields, actor: v.union(v.string(), v.null()) },
  returns: settingsValidator,
  handler: async (ctx, { actor, ...patch }) => {
    const doc = await current(ctx)
    const before = toSettings(doc)
    const after = mergeSettings(before, patch)
    const changed = (Object.keys(after) as (keyof SystemSettings)[]).filter(key => JSON.stringify(after[key]) !== JSON.stringify(before[key]))
    if (changed.length > 0) {
      if (doc) await ctx.db.patch('settings', doc._id, after)
      else await ctx.db.insert('settings', { scope: 'instance', ...after })
      await recordAudit(ctx, { action: 'settings.changed', actor, detail: changed.map(key => `${key}: ${shown(before[key])} → ${shown(after[key])}`).join('; ') })
    }
    return after
  },
})
