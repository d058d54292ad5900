/**
 * The notification outbox (shared/node/notify/outbox.ts, `OutboxStore`) as Convex functions: each
 * call is one transaction, so of outboxes in several web replicas one claims a delivery.
 */
import { zodToConvexFields } from 'convex-helpers/server/zod4'
import { v } from 'convex/values'
import { storedDeliverySchema, type StoredDelivery } from '../../shared/notifications'
import { mutation, query } from './_generated/server'
import type { Doc } from './_generated/dataModel'
import { clampLimit, clipMessage, deliveryValidator } from './model'

export type { StoredDelivery }

function toDelivery({ _id, _creationTime, pending, ...delivery }: Doc<'notificationOutbox'>): StoredDelivery {
  return { id: _id, ...delivery }
}

/** Adds the delivery unless one for the same (notificationId, target) exists; true when added. */
export const enqueue = mutation({
  args: zodToConvexFields(storedDeliverySchema.pick({ notificationId: true, target: true, notification: true, createdAt: true, nextAttemptAt: true }).shape),
  returns: v.boolean(),
  handler: async (ctx, delivery) => {
    const existing = await ctx.db.query('notificationOutbox')
      .withIndex('by_notification_id_and_target', q => q.eq('notificationId', delivery.notificationId).eq('target', delivery.target))
      .first()
    if (existing) return false
    await ctx.db.insert('notificationOutbox', { ...delivery, attempts: 0, deliveredAt: null, gaveUpAt: null, lastError: null, pending: true })
    return true
  },
})

/** Up to `limit` pending deliveries due at `now`, oldest first, claimed until `claimUntil` (attempts counted). */
export const due = mutation({
  args: { now: v.number(), limit: v.number(), claimUntil: v.number() },
  returns: v.array(deliveryValidator),
  handler: async (ctx, { now, limit, claimUntil }) => {
    const docs = await ctx.db.query('notificationOutbox')
      .withIndex('by_pending_and_next_attempt_at', q => q.eq('pending', true).lte('nextAttemptAt', now))
      .take(clampLimit(limit))
    const claimed: StoredDelivery[] = []
    for (const doc of docs) {
      await ctx.db.patch('notificationOutbox', doc._id, { attempts: doc.attempts + 1, nextAttemptAt: claimUntil })
      claimed.push(toDelivery({ ...doc, attempts: doc.attempts + 1, nextAttemptAt: claimUntil }))
    }
    return claimed
  },
})

export const markDelivered = mutation({
  args: { id: v.string(), at: v.number() },
  returns: v.null(),
  handler: async (ctx, { id, at }) => {
    const docId = ctx.db.normalizeId('notificationOutbox', id)
    if (docId && await ctx.db.get('notificationOutbox', docId)) {
      await ctx.db.patch('notificationOutbox', docId, { deliveredAt: at, gaveUpAt: null, lastError: null, pending: false })
    }
    return null
  },
})

/** A failed attempt: try again at `nextAttemptAt`, or give up (null). Ignored once delivered. */
export const markFailed = mutation({
  args: { id: v.string(), nextAttemptAt: v.union(v.number(), v.null()), error: v.string(), at: v.number() },
  returns: v.null(),
  handler: async (ctx, { id, nextAttemptAt, error, at }) => {
    const docId = ctx.db.normalizeId('notificationOutbox', id)
    const doc = docId ? await ctx.db.get('notificationOutbox', docId) : null
    if (!docId || !doc || doc.deliveredAt !== null) return null
    const lastError = clipMessage(error)
    if (nextAttemptAt === null) await ctx.db.patch('notificationOutbox', docId, { gaveUpAt: at, lastError, pending: false })
    else await ctx.db.patch('notificationOutbox', docId, { nextAttemptAt, lastError })
    return null
  },
})

export const deliveriesOf = query({
  args: { notificationId: v.string() },
  returns: v.array(deliveryValidator),
  handler: async (ctx, { notificationId }) => {
    const docs = await ctx.db.query('notificationOutbox')
      .withIndex('by_notification_id_and_target', q => q.eq('notificationId', notificationId))
      .collect()
    return docs.sort((a, b) => a.createdAt - b.createdAt || a.target.localeCompare(b.target)).map(toDelivery)
  },
})
