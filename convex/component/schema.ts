/**
 * The production store's tables (DESIGN.md, drivers and stores). Every lookup goes through one
 * of these indexes; the comment on each says which functions it serves.
 */
import { defineSchema, defineTable } from 'convex/server'
import { v } from 'convex/values'
import { autoUpdatePolicyFields, channelValidator, literals, outboxFields, releaseFields, releaseTrustFields, runFields, userFields } from './model'

export const AUDIT_ACTIONS = ['run.opened', 'run.adopted', 'run.closed', 'settings.changed', 'release.dismissed', 'run.acknowledged', 'checks.ignored', 'release.imported'] as const

export default defineSchema({
  users: defineTable(userFields)
    // users.getByEmail and the duplicate check in users.create.
    .index('by_email', ['email']),

  runs: defineTable(runFields)
    // The active run (queued or running): runs.getActive and the single-active rule.
    .index('by_status', ['status'])
    // runs.getByJobId, adoptJob's idempotency and one job per run in attachJob.
    .index('by_job_id', ['jobId'])
    // runs.list, newest first (ties broken by creation time, like SQLite's insertion order).
    .index('by_started_at', ['startedAt']),

  dismissals: defineTable({
    userId: v.string(),
    version: v.string(),
    dismissedAt: v.number(),
  })
    // dismissals.isDismissed and the idempotent dismissals.dismiss.
    .index('by_user_id_and_version', ['userId', 'version']),

  /** Who acknowledged a failed or rolled-back run; one document per run, the first one stands. */
  runAcknowledgements: defineTable({
    runId: v.id('runs'),
    userId: v.string(),
    email: v.string(),
    acknowledgedAt: v.number(),
  })
    // acknowledgements.get and the idempotent acknowledgements.acknowledge.
    .index('by_run_id', ['runId']),

  /** One document per cached release, so long release notes never share a document. */
  releases: defineTable({ ...releaseFields, position: v.number() })
    // releases.getCache, in the order the source listed them.
    .index('by_position', ['position']),

  /**
   * The release check (one document, scope `instance`): when the source was last asked and why
   * that failed, and what keeps checks cheap across replicas (next slot, back-off, validators).
   */
  releaseChecks: defineTable({
    scope: v.literal('instance'),
    checkedAt: v.union(v.number(), v.null()),
    error: v.union(v.string(), v.null()),
    nextCheckAt: v.union(v.number(), v.null()),
    retryAt: v.union(v.number(), v.null()),
    etag: v.union(v.string(), v.null()),
    /** A list, not a record: versions like `1.4.0-beta.1` are data, not field names. */
    fingerprints: v.array(v.object({ version: v.string(), fingerprint: v.string() })),
  })
    // The instance's single check document.
    .index('by_scope', ['scope']),

  /** What release indexes taught the instance (one document, scope `instance`): the ratchet, rotated keys. */
  releaseTrust: defineTable({ scope: v.literal('instance'), ...releaseTrustFields })
    // The instance's single trust document.
    .index('by_scope', ['scope']),

  /** Instance settings (one document, scope `instance`). */
  settings: defineTable({
    scope: v.literal('instance'),
    channel: channelValidator,
    ...autoUpdatePolicyFields,
  })
    // The instance's single settings document.
    .index('by_scope', ['scope']),

  /** The automatic update scheduler's slot (one document, scope `instance`); replicas take it in `schedule.claim`. */
  autoUpdateSlots: defineTable({
    scope: v.literal('instance'),
    nextAt: v.union(v.number(), v.null()),
  })
    // The instance's single slot document.
    .index('by_scope', ['scope']),

  /**
   * The notification outbox (shared/node/notify/outbox.ts): one document per (notification,
   * target). The notification is kept as its JSON text: it leaves unchanged as a webhook's body.
   */
  notificationOutbox: defineTable({
    ...outboxFields,
    /** Neither delivered nor given up: what `outbox.due` reads. */
    pending: v.boolean(),
  })
    // outbox.enqueue's one-per-pair rule and outbox.deliveriesOf.
    .index('by_notification_id_and_target', ['notificationId', 'target'])
    // outbox.due: the pending deliveries whose time has come, oldest first.
    .index('by_pending_and_next_attempt_at', ['pending', 'nextAttemptAt']),

  /** Who did what: written by the mutations themselves, in the same transaction as the change. */
  audit: defineTable({
    action: literals(AUDIT_ACTIONS),
    /** The requester's email, or null when the change has no known actor. */
    actor: v.union(v.string(), v.null()),
    runId: v.union(v.id('runs'), v.null()),
    detail: v.string(),
  })
    // audit.listForRun: one run's trail in order.
    .index('by_run_id', ['runId']),
})
