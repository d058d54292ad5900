/**
 * The release cache: the last good list from the release source, with when it was last asked
 * and why that failed, plus the state that keeps checks cheap and polite (the scheduled slot
 * replicas claim, the source's back-off, its validators). Releases are one document each (notes
 * can be long); the check state is one more.
 */
import { v } from 'convex/values'
import { mutation, query, type MutationCtx, type QueryCtx } from './_generated/server'
import type { Doc } from './_generated/dataModel'
import { EMPTY_RELEASE_TRUST } from '../../shared/schemas/release'
import { releaseCacheValidator, releaseTrustPatchValidator, releaseTrustValidator } from './model'
import { recordAudit } from './audit'

const fingerprintsValidator = v.array(v.object({ version: v.string(), fingerprint: v.string() }))

const checkStateValidator = v.object({
  nextCheckAt: v.union(v.number(), v.null()),
  retryAt: v.union(v.number(), v.null()),
  etag: v.union(v.string(), v.null()),
  fingerprints: fingerprintsValidator,
})

function checkDoc(ctx: QueryCtx): Promise<Doc<'releaseChecks'> | null> {
  return ctx.db.query('releaseChecks').withIndex('by_scope', q => q.eq('scope', 'instance')).unique()
}

/** The check document, made on first write. */
async function ensureCheckDoc(ctx: MutationCtx): Promise<Doc<'releaseChecks'>> {
  const existing = await checkDoc(ctx)
  if (existing) return existing
  const id = await ctx.db.insert('releaseChecks', {
    scope: 'instance', checkedAt: null, error: null, nextCheckAt: null, retryAt: null, etag: null, fingerprints: [],
  })
  return (await ctx.db.get('releaseChecks', id))!
}

export const getCache = query({
  args: {},
  returns: releaseCacheValidator,
  handler: async (ctx) => {
    const docs = await ctx.db.query('releases').withIndex('by_position').collect()
    const check = await checkDoc(ctx)
    return {
      releases: docs.map(({ _id, _creationTime, position, ...release }) => release),
      checkedAt: check?.checkedAt ?? null,
      error: check?.error ?? null,
    }
  },
})

/** Replaces the cache as a whole, in one transaction: readers see the old list or the new one. */
export const saveCache = mutation({
  args: releaseCacheValidator,
  returns: v.null(),
  handler: async (ctx, cache) => {
    for (const doc of await ctx.db.query('releases').withIndex('by_position').collect()) {
      await ctx.db.delete('releases', doc._id)
    }
    for (const [position, release] of cache.releases.entries()) {
      await ctx.db.insert('releases', { ...release, position })
    }
    const check = await ensureCheckDoc(ctx)
    await ctx.db.patch('releaseChecks', check._id, { checkedAt: cache.checkedAt, error: cache.error })
    return null
  },
})

export const getCheckState = query({
  args: {},
  returns: checkStateValidator,
  handler: async (ctx) => {
    const check = await checkDoc(ctx)
    return {
      nextCheckAt: check?.nextCheckAt ?? null,
      retryAt: check?.retryAt ?? null,
      etag: check?.etag ?? null,
      fingerprints: check?.fingerprints ?? [],
    }
  },
})

/** Replaces the fields given; the scheduled slot changes only through `claimCheck`. */
export const saveCheckState = mutation({
  args: {
    retryAt: v.optional(v.union(v.number(), v.null())),
    etag: v.optional(v.union(v.string(), v.null())),
    fingerprints: v.optional(fingerprintsValidator),
  },
  returns: v.null(),
  handler: async (ctx, patch) => {
    const check = await ensureCheckDoc(ctx)
    await ctx.db.patch('releaseChecks', check._id, patch)
    return null
  },
})

/**
 * Takes the scheduled check when no slot is set or it is due, moving the slot to `nextAt`. Read
 * and write are one transaction, so of replicas claiming the same slot exactly one gets true.
 */
export const claimCheck = mutation({
  args: { now: v.number(), nextAt: v.number() },
  returns: v.boolean(),
  handler: async (ctx, { now, nextAt }) => {
    const check = await ensureCheckDoc(ctx)
    if (check.nextCheckAt !== null && check.nextCheckAt > now) return false
    await ctx.db.patch('releaseChecks', check._id, { nextCheckAt: nextAt })
    return true
  },
})

function trustDoc(ctx: QueryCtx): Promise<Doc<'releaseTrust'> | null> {
  return ctx.db.query('releaseTrust').withIndex('by_scope', q => q.eq('scope', 'instance')).unique()
}

export const getTrust = query({
  args: {},
  returns: releaseTrustValidator,
  handler: async (ctx) => {
    const doc = await trustDoc(ctx)
    if (!doc) return EMPTY_RELEASE_TRUST
    const { _id, _creationTime, scope, ...trust } = doc
    return trust
  },
})

/**
 * Replaces the fields given. The ratchet: a lower `highestSerial` than the stored one changes
 * nothing and answers false; read and write are one transaction, so replicas cannot undo it.
 */
export const saveTrust = mutation({
  args: { patch: releaseTrustPatchValidator },
  returns: v.boolean(),
  handler: async (ctx, { patch }) => {
    const doc = await trustDoc(ctx)
    if (doc && typeof patch.highestSerial === 'number' && doc.highestSerial !== null && patch.highestSerial < doc.highestSerial) return false
    if (doc) await ctx.db.patch('releaseTrust', doc._id, patch)
    else await ctx.db.insert('releaseTrust', { scope: 'instance', ...EMPTY_RELEASE_TRUST, ...patch })
    return true
  },
})

/**
 * An admin imported an offline release bundle (the page's upload). The release itself lives in
 * the web's release folder, not here: this records who brought it in, for the audit trail.
 */
export const recordImport = mutation({
  args: { email: v.string(), version: v.string(), images: v.number(), indexExpired: v.boolean() },
  returns: v.null(),
  handler: async (ctx, { email, version, images, indexExpired }) => {
    const loaded = `${images} image${images === 1 ? '' : 's'} loaded`
    await recordAudit(ctx, { action: 'release.imported', actor: email, detail: `imported ${version} from an offline bundle (${loaded}${indexExpired ? ', its release index past its expiry' : ''})` })
    return null
  },
})
