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
