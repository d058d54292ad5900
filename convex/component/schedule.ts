/** The automatic update scheduler's slot (issue 17): one replica of the web acts per slot. */
import { v } from 'convex/values'
import { mutation } from './_generated/server'

/**
 * Takes the slot when none is set or it is due, moving it to `nextAt`. Read and write are one
 * transaction, so of replicas claiming the same slot exactly one gets true (as `releases.claimCheck`).
 */
export const claim = mutation({
  args: { now: v.number(), nextAt: v.number() },
  returns: v.boolean(),
  handler: async (ctx, { now, nextAt }) => {
    const doc = await ctx.db.query('autoUpdateSlots').withIndex('by_scope', q => q.eq('scope', 'instance')).unique()
    if (doc && doc.nextAt !== null && doc.nextAt > now) return false
    if (doc) await ctx.db.patch('autoUpdateSlots', doc._id, { nextAt })
    else await ctx.db.insert('autoUpdateSlots', { scope: 'instance', nextAt })
    return true
  },
})
