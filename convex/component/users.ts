/**
 * Sign-in accounts of the standalone app's own sign-in (playground/); a host signs its users in
 * itself. Emails are stored lower-case and are unique, checked inside `create`.
 */
import { v } from 'convex/values'
import { mutation, query } from './_generated/server'
import type { Doc } from './_generated/dataModel'
import { newUserFields, storeError, userValidator } from './model'

function toUser({ _id, _creationTime, ...user }: Doc<'users'>) {
  return { id: _id, ...user }
}

export const getByEmail = query({
  args: { email: v.string() },
  returns: v.union(userValidator, v.null()),
  handler: async (ctx, { email }) => {
    const doc = await ctx.db.query('users').withIndex('by_email', q => q.eq('email', email.toLowerCase())).unique()
    return doc ? toUser(doc) : null
  },
})

export const getById = query({
  args: { id: v.string() },
  returns: v.union(userValidator, v.null()),
  handler: async (ctx, { id }) => {
    const userId = ctx.db.normalizeId('users', id)
    const doc = userId ? await ctx.db.get('users', userId) : null
    return doc ? toUser(doc) : null
  },
})

/** `owlat admin reset-password`: the new hash replaces the old one; null when there is no such user. */
export const setPassword = mutation({
  args: { id: v.string(), passwordHash: v.string() },
  returns: v.union(userValidator, v.null()),
  handler: async (ctx, { id, passwordHash }) => {
    const userId = ctx.db.normalizeId('users', id)
    const doc = userId ? await ctx.db.get('users', userId) : null
    if (!doc) return null
    await ctx.db.patch('users', doc._id, { passwordHash })
    return toUser((await ctx.db.get('users', doc._id))!)
  },
})

/** Platform admins first, then by email; at most `limit` (1-100). */
export const list = query({
  args: { limit: v.number() },
  returns: v.array(userValidator),
  handler: async (ctx, { limit }) => {
    const take = Math.max(1, Math.min(Math.trunc(limit), 100))
    const admins = await ctx.db.query('users').withIndex('by_role_and_email', q => q.eq('role', 'platform-admin')).take(take)
    const members = admins.length < take
      ? await ctx.db.query('users').withIndex('by_role_and_email', q => q.eq('role', 'member')).take(take - admins.length)
      : []
    return [...admins, ...members].map(toUser)
  },
})

export const create = mutation({
  args: newUserFields,
  returns: userValidator,
  handler: async (ctx, user) => {
    const email = user.email.toLowerCase()
    const taken = await ctx.db.query('users').withIndex('by_email', q => q.eq('email', email)).first()
    if (taken) throw storeError({ code: 'DUPLICATE_USER', email })
    const id = await ctx.db.insert('users', { email, role: user.role, passwordHash: user.passwordHash, createdAt: Date.now() })
    return toUser((await ctx.db.get('users', id))!)
  },
})
