/**
 * Sign-in accounts of the standalone app's own sign-in (playground/); a host signs its users in
 * itself. Emails are stored lower-case and are unique, checked inside `create`. A session is
 * valid while it carries the user's `sessionVersion`, which `update` (a new password, another
 * role) and `revokeSessions` (sign-out) raise.
 */
import { v } from 'convex/values'
import { mutation, query } from './_generated/server'
import type { Doc } from './_generated/dataModel'
import { DEFAULT_NOTIFICATION_PREFERENCE } from '../../shared/notifications'
import { newUserFields, notificationPreferenceValidator, storeError, userPatchValidator, userValidator } from './model'

function toUser({ _id, _creationTime, ...user }: Doc<'users'>) {
  return { id: _id, ...user, sessionVersion: user.sessionVersion ?? 0, notifications: user.notifications ?? DEFAULT_NOTIFICATION_PREFERENCE }
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

export const list = query({
  args: {},
  returns: v.array(userValidator),
  handler: async (ctx) => {
    const docs = await ctx.db.query('users').withIndex('by_email').collect()
    return docs.map(toUser)
  },
})

export const update = mutation({
  args: { id: v.string(), patch: userPatchValidator },
  returns: userValidator,
  handler: async (ctx, { id, patch }) => {
    const userId = ctx.db.normalizeId('users', id)
    const doc = userId ? await ctx.db.get('users', userId) : null
    if (!userId || !doc) throw storeError({ code: 'USER_NOT_FOUND', userId: id })
    const changes = {
      ...(patch.role !== undefined && patch.role !== doc.role ? { role: patch.role } : {}),
      ...(patch.passwordHash !== undefined ? { passwordHash: patch.passwordHash } : {}),
    }
    if (Object.keys(changes).length === 0) return toUser(doc)
    await ctx.db.patch('users', userId, { ...changes, sessionVersion: (doc.sessionVersion ?? 0) + 1 })
    return toUser((await ctx.db.get('users', userId))!)
  },
})

export const revokeSessions = mutation({
  args: { id: v.string() },
  returns: v.union(userValidator, v.null()),
  handler: async (ctx, { id }) => {
    const userId = ctx.db.normalizeId('users', id)
    const doc = userId ? await ctx.db.get('users', userId) : null
    if (!userId || !doc) return null
    await ctx.db.patch('users', userId, { sessionVersion: (doc.sessionVersion ?? 0) + 1 })
    return toUser((await ctx.db.get('users', userId))!)
  },
})

/** Which notifications the user gets by email (issue 17); sessions are untouched. */
export const setNotifications = mutation({
  args: { id: v.string(), notifications: notificationPreferenceValidator },
  returns: userValidator,
  handler: async (ctx, { id, notifications }) => {
    const userId = ctx.db.normalizeId('users', id)
    const doc = userId ? await ctx.db.get('users', userId) : null
    if (!userId || !doc) throw storeError({ code: 'USER_NOT_FOUND', userId: id })
    await ctx.db.patch('users', userId, { notifications })
    return toUser((await ctx.db.get('users', userId))!)
  },
})
