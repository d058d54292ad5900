import { z } from 'zod'
import { autoUpdatePolicyPatchSchema, autoUpdatePolicySchema } from '../auto-update'
import { notificationPreferenceSchema, DEFAULT_NOTIFICATION_PREFERENCE } from '../notifications'
import { channelSchema, runCoreSchema, severitySchema, versionSchema } from './common'
import { releaseSchema } from './release'
import { driverBackupsSchema, serviceHealthSchema } from './job'

/** `POST /api/auth/login` */
export const loginBodySchema = z.object({
  email: z.email('enter a valid email address').max(320).transform(e => e.toLowerCase()),
  password: z.string().min(1, 'password is required').max(1024),
})

/** The pinned part of `POST /api/system/updates` and `POST /api/system/rollbacks`. */
export const targetVersionBodySchema = z.object({ targetVersion: versionSchema }).strict()

/**
 * `POST /api/system/updates`. `backup` defaults on so the pinned `{targetVersion}` body keeps the
 * safe behaviour; a driver that cannot back up skips the step and says why.
 */
/**
 * Going ahead although the plan has failing checks: `ignoreChecks` with the admin's reason, which
 * the run, the history and the audit trail record. The route insists on the reason.
 */
export const ignoreChecksFields = {
  ignoreChecks: z.boolean().default(false),
  reason: z.string().trim().max(1000, 'the reason is too long (1000 characters at most)').optional(),
}

export const updateBodySchema = targetVersionBodySchema.extend({
  backup: z.boolean().default(true),
  /** Install it even though it failed on this instance before ("try again anyway"). */
  retryFailed: z.boolean().default(false),
  ...ignoreChecksFields,
}).strict()
export type UpdateBody = z.input<typeof updateBodySchema>

/**
 * `POST /api/system/rollbacks`. `restoreBackup` defaults on: it only takes effect when the update
 * being undone left a data backup the driver can restore.
 */
export const rollbackBodySchema = targetVersionBodySchema.extend({
  restoreBackup: z.boolean().default(true),
  /** Go back to it even though a run to it failed on this instance before. */
  retryFailed: z.boolean().default(false),
  ...ignoreChecksFields,
}).strict()
export type RollbackBody = z.input<typeof rollbackBodySchema>

/**
 * `POST /api/system/rehearsals`: the target on a throwaway copy of the data, production untouched.
 * Nothing else to choose: it always works on its own copy, and a failing check refuses it.
 */
export const rehearsalBodySchema = targetVersionBodySchema
export type RehearsalBody = z.input<typeof rehearsalBodySchema>

/** The rollback dialog's form: the body plus the target version typed again to confirm. */
export const rollbackFormSchema = rollbackBodySchema
  .extend({ confirmation: z.string().trim() })
  .refine(form => form.confirmation === form.targetVersion, {
    path: ['confirmation'],
    message: 'Type the version you are rolling back to, exactly as shown',
  })
export type RollbackForm = z.input<typeof rollbackFormSchema>

/** `POST /api/system/notifications/dismiss` */
export const dismissBodySchema = z.object({ version: versionSchema }).strict()

/** `GET /api/system/updates/:id` (and its `/export`, `/acknowledge`) params */
export const runIdParamsSchema = z.object({ id: z.string().min(1).max(100) })

export const userRoleSchema = z.enum(['platform-admin', 'member'])
export type UserRole = z.infer<typeof userRoleSchema>

export const sessionUserSchema = z.object({
  id: z.string(),
  email: z.string(),
  role: userRoleSchema,
})
export type SessionUser = z.infer<typeof sessionUserSchema>

/** `GET /api/owlat-system/user`: who the app's user resolver says is signed in (null: nobody). */
export const systemUserAnswerSchema = z.object({ user: sessionUserSchema.nullable() })
export type SystemUserAnswer = z.infer<typeof systemUserAnswerSchema>

/** A sign-in account as the stores keep it (server side only: never sent to the browser). */
export const storedUserSchema = z.object({
  id: z.string(),
  /** Lower-case. */
  email: z.string(),
  role: userRoleSchema,
  passwordHash: z.string(),
  createdAt: z.number(),
  /**
   * Raised whenever every session of the user must end (sign-out, a new password, a role change);
   * a session is valid only while it carries the current value. Absent on records made before it.
   */
  sessionVersion: z.number().int().min(0).default(0),
  /** Which notifications this admin gets by email (issue 17); absent on records made before it. */
  notifications: notificationPreferenceSchema.default(DEFAULT_NOTIFICATION_PREFERENCE),
})
export type StoredUser = z.infer<typeof storedUserSchema>

/** What an admin may change of a user; each change ends every session of that user. */
export const userPatchSchema = z.object({
  role: userRoleSchema.optional(),
  passwordHash: z.string().optional(),
}).strict()
export type UserPatch = z.infer<typeof userPatchSchema>

/** A password as sign-in accounts take it (the create-user script's rule too). */
export const newPasswordSchema = z.string().min(8, 'the password must be at least 8 characters').max(1024)

/** `POST /api/auth/password` (the standalone app): the signed-in user's own password. */
export const changePasswordBodySchema = z.object({
  currentPassword: z.string().min(1, 'the current password is required').max(1024),
  newPassword: newPasswordSchema,
}).strict()

/** `PATCH /api/users/:id` (the standalone app, admins): a role, a new password, or both. */
export const userUpdateBodySchema = z.object({
  role: userRoleSchema.optional(),
  password: newPasswordSchema.optional(),
}).strict().refine(b => b.role !== undefined || b.password !== undefined, 'give a role, a password or both')

/** A user as the standalone app lists them to admins: never the password hash. */
export const userViewSchema = z.object({ id: z.string(), email: z.string(), role: userRoleSchema, createdAt: z.number() })
export type UserView = z.infer<typeof userViewSchema>
export const usersAnswerSchema = z.object({ users: z.array(userViewSchema) })

/** `GET /api/auth/locks` (the standalone app, admins): the sign-in locks in force. */
export const signInLockSchema = z.object({
  scope: z.enum(['pair', 'address', 'account']),
  email: z.string().nullable(),
  address: z.string().nullable(),
  failures: z.number(),
  lockedUntil: z.number(),
})
export const signInLocksAnswerSchema = z.object({ locks: z.array(signInLockSchema) })

/** `DELETE /api/auth/locks?email=E&address=A` (admins): one of them at least. */
export const clearLocksQuerySchema = z.object({
  email: z.email().max(320).transform(e => e.toLowerCase()).optional(),
  address: z.string().min(1).max(100).optional(),
}).strict().refine(q => q.email !== undefined || q.address !== undefined, 'give an email, an address or both')

export const newUserSchema = storedUserSchema.pick({ email: true, role: true, passwordHash: true })
export type NewUser = z.infer<typeof newUserSchema>

/** `GET /api/system/version` (unauthenticated: the page polls it while the web restarts). */
export const versionInfoSchema = z.object({ version: z.string(), buildId: z.string() })
export type VersionInfo = z.infer<typeof versionInfoSchema>

/** What a plan describes: an update, a rollback, or a rehearsal of an update on a copy of the data. */
export const planKindSchema = z.enum(['update', 'rollback', 'rehearsal'])
export type PlanKind = z.infer<typeof planKindSchema>

/** `GET /api/system/plan?targetVersion=V&kind=update|rollback|rehearsal` */
export const planQuerySchema = z.object({
  targetVersion: versionSchema,
  kind: planKindSchema.default('update'),
})

/** One of the plan's checks (shared/node/checks/plan.ts). */
export const planCheckSchema = z.object({
  id: z.string(),
  status: z.enum(['ok', 'warn', 'fail']),
  message: z.string(),
  fix: z.string().nullable(),
  /** Whether ticking "ignore failing checks" (with a reason) lets this failure through. */
  ignorable: z.boolean(),
})
export type PlanCheck = z.infer<typeof planCheckSchema>

/** What one release on the way declares about data (its signed manifest's `migrations`). */
export const releaseMigrationSchema = z.object({
  version: z.string(),
  migratesData: z.boolean(),
  /** The oldest version a rollback can reach once it ran; null when it sets no floor. */
  rollbackFloor: z.string().nullable(),
})
export type ReleaseMigration = z.infer<typeof releaseMigrationSchema>

/** What an update, a rollback or a rehearsal will do, before it starts (DESIGN.md, Plan). */
export const planSchema = z.object({
  kind: planKindSchema,
  fromVersion: z.string(),
  targetVersion: z.string(),
  /** The versions to install in order, ending with the target, without the running one; empty when there is no way there. */
  path: z.array(z.string()),
  checks: z.array(planCheckSchema),
  /** Every image that changes (null: the service is new, or goes). */
  images: z.array(z.object({ service: z.string(), from: z.string().nullable(), to: z.string().nullable() })),
  /** Unified diff of the running compose file against the target's, secrets masked; empty when equal. */
  composeDiff: z.string(),
  /** Whether a release on the way migrates data (an update), or one undone did (a rollback). */
  migratesData: z.boolean(),
  /** The oldest version a rollback can reach afterwards; null when no migration limits it. */
  rollbackFloor: z.string().nullable(),
  /** Each release the run crosses (an update: the target, its stops and those in between; a rollback: those it undoes), newest first. */
  migrations: z.array(releaseMigrationSchema),
})
export type Plan = z.infer<typeof planSchema>

/** An update run as the web store keeps it. */
export const runSchema = runCoreSchema.extend({
  jobId: z.string().nullable(),
  startedAt: z.number(),
  /**
   * The plan as `GET /api/system/plan` gave it when the run was opened: kept with a rehearsal for
   * its report (checks, path, images, compose diff, migrations). Absent or null for other runs.
   */
  plan: planSchema.nullable().optional(),
})
export type Run = z.infer<typeof runSchema>

/** What opening a run takes; the store fills in the rest (`queued`, no job, no steps). */
export const newRunSchema = runSchema.pick({ kind: true, fromVersion: true, toVersion: true, requestedBy: true, override: true, path: true, plan: true })
export type NewRun = z.infer<typeof newRunSchema>

/** What a sync from the sidecar (or a reconciliation) may change on a run. */
export const runPatchSchema = runSchema.pick({ status: true, steps: true, reason: true, endedAt: true }).partial()
export type RunPatch = z.infer<typeof runPatchSchema>

/** Who acknowledged a failed or rolled-back run, and when (one per run, the first one stands). */
export const runAcknowledgementSchema = z.object({
  runId: z.string(),
  userId: z.string(),
  email: z.string(),
  acknowledgedAt: z.number(),
})
export type RunAcknowledgement = z.infer<typeof runAcknowledgementSchema>

/** `GET /api/system/updates/:id/export`: everything known about one run, as a file. */
export const runExportSchema = z.object({
  exportedAt: z.number(),
  run: runSchema,
  acknowledgement: runAcknowledgementSchema.nullable(),
})
export type RunExport = z.infer<typeof runExportSchema>

/**
 * A release that failed on this instance: the newest run that tried it was rolled back, or failed
 * once the stack had changed (shared/targets.ts `failedReleases`).
 */
export const failedAttemptSchema = z.object({
  version: z.string(),
  /** The run's id (the one the page, the API and `owlat logs --job` all accept). */
  runId: z.string(),
  status: z.enum(['rolled_back', 'failed']),
  endedAt: z.number(),
  reason: z.string().nullable(),
})
export type FailedAttempt = z.infer<typeof failedAttemptSchema>

/** `GET /api/system/status`: one read for the page and the banner. */
export const statusSchema = z.object({
  /**
   * The committed version: what runs once nothing is in flight. While a run is active it is the
   * version the run started from, whatever the web answering right now runs (the new web answers
   * during `verify`, before anything is committed).
   */
  currentVersion: z.string(),
  /** The version of the web process that answered (the document's own build); null from older webs. */
  webVersion: z.string().nullable().default(null),
  buildId: z.string(),
  channel: channelSchema,
  latest: releaseSchema.nullable(),
  updateAvailable: z.boolean(),
  severity: severitySchema.nullable(),
  dismissed: z.boolean(),
  activeRun: runSchema.nullable(),
  /**
   * The newest finished run when it ended `failed` or `rolled_back` and no admin acknowledged it
   * yet: every admin page shows it until one does.
   */
  unacknowledgedRun: runSchema.nullable().default(null),
  lastCheck: z.object({
    checkedAt: z.number().nullable(),
    error: z.string().nullable(),
    /** When the source will be asked next (the scheduled slot or the end of a rate limit). */
    nextCheckAt: z.number().nullable(),
  }),
  /** Releases that failed on this instance (newest first): marked everywhere, never offered by the banner. */
  failedReleases: z.array(failedAttemptSchema).default([]),
  /** Whether "Roll back…" has a version to offer, and why not when it has none. */
  rollback: z.object({ available: z.boolean(), reason: z.string().nullable() }).default({ available: true, reason: null }),
  /** How long `verify` waits for the new version (OWLAT_VERIFY_TIMEOUT_MS): "verifying, 23 s of 60 s". */
  verifyTimeoutMs: z.number().nullable().default(null),
  /** The signed release index as this instance judges it (null from older webs). */
  releaseIndex: z.object({
    /** The accepted index's serial and expiry; null before one was accepted. */
    serial: z.number().nullable(),
    expiresAt: z.string().nullable(),
    /** Past its expiry: release information is stale, no update starts without an override. */
    stale: z.boolean(),
    /** Why there is no usable index; null when there is one. */
    error: z.string().nullable(),
    /** The running version is revoked: shown to every admin, never dismissible. */
    revokedRunning: z.object({ version: z.string(), reason: z.string(), moveTo: z.string().nullable() }).nullable(),
    /** The last index refused for a lower serial: a rollback attack. */
    rollbackRefusal: z.object({ at: z.number(), serial: z.number(), highestSerial: z.number(), where: z.string() }).nullable(),
  }).nullable().default(null),
  /** How long the watch window after `verify` lasts (OWLAT_WATCH_MS): the page counts it down. */
  watchMs: z.number().nullable().default(null),
  /**
   * Offline release bundles the page may upload (`POST /api/system/bundles`): the largest taken
   * (OWLAT_BUNDLE_MAX_BYTES), and why none is taken (`refusal`, null when they are). Null from older webs.
   */
  bundleUpload: z.object({ maxBytes: z.number().int().positive(), refusal: z.string().nullable() }).nullable().default(null),
})
export type SystemStatus = z.infer<typeof statusSchema>

export const historySchema = z.object({ runs: z.array(runSchema) })

/** `GET /api/system/health` */
export const healthResponseSchema = z.object({
  reachable: z.boolean(),
  driver: z.string().nullable(),
  version: z.string().nullable(),
  services: z.array(serviceHealthSchema),
  /** Whether the sidecar's driver can back up and restore data; null while it cannot be reached. */
  backups: driverBackupsSchema.nullable(),
  /** Whether the sidecar's driver can rehearse a release on a copy of the data; null while it cannot be reached. */
  rehearsals: driverBackupsSchema.nullable(),
  error: z.string().nullable(),
})
export type HealthResponse = z.infer<typeof healthResponseSchema>

/** `GET /api/system/settings`: the channel and the automatic update policy (issue 17). */
export const settingsSchema = z.object({ channel: channelSchema, ...autoUpdatePolicySchema.shape }).strict()
export type Settings = z.infer<typeof settingsSchema>

/**
 * The body of `PUT /api/system/settings`: only the fields to change. `pausedBy` is not taken from
 * the body: the server records the admin who set `pausedUntil`.
 */
export const settingsPatchSchema = z.object({
  channel: channelSchema.optional(),
  ...autoUpdatePolicyPatchSchema.omit({ pausedBy: true }).shape,
}).strict()
export type SettingsPatch = z.infer<typeof settingsPatchSchema>

/** What the stores take: the body's fields plus `pausedBy`, each optional. */
export const storedSettingsPatchSchema = z.object({ channel: channelSchema, ...autoUpdatePolicyPatchSchema.shape }).partial().strict()
export type StoredSettingsPatch = z.input<typeof storedSettingsPatchSchema>

export const DEFAULT_SETTINGS: Settings = settingsSchema.parse({ channel: 'stable' })

/** A change as the stores record it: a freeze names who set it (the page shows it); lifting it clears the name. */
export function settingsChangeBy(patch: SettingsPatch, actor: string): StoredSettingsPatch {
  const pausedBy = patch.pausedUntil === undefined ? undefined : patch.pausedUntil === null ? null : actor
  return { ...patch, pausedBy }
}

/** Stored settings with a change applied, validated as a whole (throws a ZodError): both stores' one rule. */
export function mergeSettings(current: Settings, patch: StoredSettingsPatch): Settings {
  const defined = Object.fromEntries(Object.entries(patch).filter(([, value]) => value !== undefined))
  return settingsSchema.parse({ ...current, ...defined })
}

/** `GET`/`PUT /api/system/notifications/preference`: the signed-in admin's own choice. */
export const notificationPreferenceBodySchema = z.object({ notifications: notificationPreferenceSchema }).strict()
export type NotificationPreferenceBody = z.infer<typeof notificationPreferenceBodySchema>

export const runAcceptedSchema = z.object({ runId: z.string() })

/** The data backup an update took before it changed anything (compose driver only). */
export const runBackupSchema = z.object({
  /** The update run (and its sidecar job) that took it. */
  runId: z.string(),
  jobId: z.string(),
  path: z.string(),
  createdAt: z.number(),
  sizeBytes: z.number(),
})
export type RunBackup = z.infer<typeof runBackupSchema>

/** One release a rollback undoes, newest first. */
export const undoneReleaseSchema = z.object({
  version: z.string(),
  publishedAt: z.string().nullable(),
  notesHtml: z.string(),
  migratesData: z.boolean(),
  rollbackFloor: z.string().nullable(),
})

/** One version the rollback dialog lists, with why it cannot be chosen (null when it can). */
export const rollbackCandidateSchema = z.object({
  version: z.string(),
  /** The release's publication date; null when the source no longer lists it. */
  publishedAt: z.string().nullable(),
  /** When this instance last ran it successfully (it was left by a later run); null when never. */
  ranHereAt: z.number().nullable(),
  disabledReason: z.string().nullable(),
  undoes: z.array(undoneReleaseSchema),
  /** The backup taken before the update that left this version; null when there is none to offer. */
  backup: runBackupSchema.nullable(),
  /** A run to it failed on this instance: choosing it again takes "try again anyway". */
  failedHere: failedAttemptSchema.nullable().default(null),
})
export type RollbackCandidate = z.infer<typeof rollbackCandidateSchema>

/** `GET /api/system/rollbacks/candidates` */
export const rollbackCandidatesSchema = z.object({
  currentVersion: z.string(),
  backups: driverBackupsSchema.nullable(),
  candidates: z.array(rollbackCandidateSchema),
  /** When no candidate can be chosen, why, naming the versions this instance ran. */
  unavailableReason: z.string().nullable().default(null),
})
export type RollbackCandidates = z.infer<typeof rollbackCandidatesSchema>

/** What the scheduler does now (shared/auto-update.ts `AutomaticUpdatePlan`), as the API sends it. */
export const automaticUpdatePlanSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('none'), reason: z.string() }),
  z.object({ kind: z.literal('paused'), until: z.number(), by: z.string().nullable(), version: z.string().nullable(), why: z.string().nullable() }),
  z.object({ kind: z.literal('due'), version: z.string(), why: z.string(), security: z.boolean(), outsideWindow: z.boolean(), windowEndsAt: z.number().nullable() }),
  z.object({ kind: z.literal('scheduled'), version: z.string(), at: z.number(), why: z.string(), security: z.boolean() }),
])

/** `GET /api/system/schedule`: the next automatic update and why, in words ("1.3.1 on Sunday 03:00 UTC, security release"). */
export const scheduleAnswerSchema = z.object({
  plan: automaticUpdatePlanSchema,
  text: z.string(),
  /** The zone `text` names times in: the window's, else UTC. */
  timeZone: z.string(),
  autoUpdate: autoUpdatePolicySchema.shape.autoUpdate,
  pausedUntil: z.number().nullable(),
  /** Who set the pause (an admin's email). */
  pausedBy: z.string().nullable(),
  /** How often the scheduler looks (OWLAT_SCHEDULE_TICK_MS). */
  tickMs: z.number(),
})
export type ScheduleAnswer = z.infer<typeof scheduleAnswerSchema>
