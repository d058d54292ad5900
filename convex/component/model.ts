/**
 * What the Convex functions share: validators for the documents and payloads, derived from the
 * zod schemas in `shared/schemas` (convex-helpers' `zodToConvex`) so the records are written once,
 * the error data the web turns back into the store's typed errors, and the bounds that keep run
 * documents small.
 */
import { zodToConvex, zodToConvexFields } from 'convex-helpers/server/zod4'
import { ConvexError, getConvexSize, v, type Infer } from 'convex/values'
import {
  channelSchema, newRunSchema, newUserSchema, releaseCacheSchema, releaseSchema, releaseTrustSchema, runAcknowledgementSchema, runKindSchema,
  runPatchSchema, runSchema, runStatusSchema, settingsSchema, stepSchema, storedSettingsPatchSchema, storedUserSchema, userPatchSchema, userRoleSchema, jobSchema,
} from '../../shared/schemas'
import { autoUpdatePolicySchema } from '../../shared/auto-update'
import { notificationPreferenceSchema, storedDeliverySchema } from '../../shared/notifications'
import { STEP_LOG_LIMIT } from '../../shared/steps'
import type { Doc } from './_generated/dataModel'

/** A union of string literals from one of the `as const` lists that have no zod schema (audit actions). */
export function literals<const T extends string>(values: readonly T[]) {
  return v.union(...values.map(value => v.literal(value)))
}

export const channelValidator = zodToConvex(channelSchema)
export const runKindValidator = zodToConvex(runKindSchema)
export const runStatusValidator = zodToConvex(runStatusSchema)
export const userRoleValidator = zodToConvex(userRoleSchema)

export const stepValidator = zodToConvex(stepSchema)
export type StoredStep = Infer<typeof stepValidator>

/** A run as stored (the `runs` table): `Run` without its id, which is the document's `_id`. */
export const runFields = zodToConvexFields(runSchema.omit({ id: true }).shape)
/** A run as the web sees it (`Run`). */
export const runValidator = zodToConvex(runSchema)
export type RunView = Infer<typeof runValidator>
export const newRunFields = zodToConvexFields(newRunSchema.shape)
export const runPatchValidator = zodToConvex(runPatchSchema)

/** The document's id becomes the run's `id`; a run opened without a plan (all but rehearsals) has none. */
export function toRunView({ _id, _creationTime, ...run }: Doc<'runs'>): RunView {
  return { id: _id, ...run, plan: run.plan ?? null }
}

/** A sidecar job (`Job`), as `runs.adoptJob` receives it. */
export const jobValidator = zodToConvex(jobSchema)

/** A release as the web lists it (`Release`), and the cache of them. */
export const releaseFields = zodToConvexFields(releaseSchema.shape)
export const releaseCacheValidator = zodToConvex(releaseCacheSchema)

/** What release indexes taught the instance (`ReleaseTrust`). */
export const releaseTrustFields = zodToConvexFields(releaseTrustSchema.shape)
export const releaseTrustValidator = zodToConvex(releaseTrustSchema)
export const releaseTrustPatchValidator = zodToConvex(releaseTrustSchema.partial())

/** The notification outbox's deliveries (`StoredDelivery`): the table holds all but the id. */
export const outboxFields = zodToConvexFields(storedDeliverySchema.omit({ id: true }).shape)
export const deliveryValidator = zodToConvex(storedDeliverySchema)

/** Sign-in accounts (`StoredUser`): the table holds all but the id. */
export const userFields = zodToConvexFields(storedUserSchema.omit({ id: true }).shape)
export const userValidator = zodToConvex(storedUserSchema)
export const newUserFields = zodToConvexFields(newUserSchema.shape)
export const userPatchValidator = zodToConvex(userPatchSchema)

export const acknowledgementValidator = zodToConvex(runAcknowledgementSchema)
export const settingsValidator = zodToConvex(settingsSchema)
/** The automatic update policy as the settings document keeps it (each field optional: older documents lack them). */
export const autoUpdatePolicyFields = zodToConvexFields(autoUpdatePolicySchema.shape)
export const settingsPatchFields = zodToConvexFields(storedSettingsPatchSchema.shape)
export const notificationPreferenceValidator = zodToConvex(notificationPreferenceSchema)

/**
 * Expected refusals travel as `ConvexError` data: Convex passes that data to the client intact,
 * whereas a plain `Error` thrown by a function reaches a production client only as "Server Error".
 */
export type StoreErrorData
  = | { code: 'ACTIVE_RUN', activeRunId: string | null }
    | { code: 'RUN_NOT_FOUND', runId: string }
    | { code: 'DUPLICATE_USER', email: string }
    | { code: 'USER_NOT_FOUND', userId: string }
    | { code: 'ILLEGAL_TRANSITION', from: string, to: string }
    | { code: 'JOB_TAKEN', jobId: string, runId: string }

export function storeError(data: StoreErrorData): ConvexError<StoreErrorData> {
  return new ConvexError(data)
}

/** Characters kept of one log line; the sidecar's lines are far shorter, a runaway one is clipped. */
export const STEP_LOG_LINE_MAX = 1_000
/** Characters kept of a step's error and of a run's reason. */
export const MESSAGE_MAX = 4_000
/**
 * Bytes (as Convex counts them) that a run's steps may take. A document may hold 1 MiB; this
 * leaves most of it unused so a run never comes near the limit whatever the sidecar sends.
 */
export const RUN_STEPS_BUDGET_BYTES = 256 * 1024

function clip(text: string, max: number): string {
  if (text.length <= max) return text
  // Never cut a surrogate pair in half: a lone surrogate is not valid UTF-8.
  const code = text.charCodeAt(max - 1)
  const end = code >= 0xD800 && code <= 0xDBFF ? max - 1 : max
  return `${text.slice(0, end)}…`
}

export function clipMessage(text: string | null): string | null {
  return text === null ? null : clip(text, MESSAGE_MAX)
}

/**
 * Steps as they may be stored: the newest `STEP_LOG_LIMIT` lines of each log, each line and error
 * clipped, and then the oldest lines of the longest logs dropped until all steps fit the byte
 * budget. The newest lines are the ones the page shows, so they are the ones kept.
 */
export function boundSteps(steps: StoredStep[]): StoredStep[] {
  const bounded = steps.map(step => ({
    ...step,
    log: step.log.slice(-STEP_LOG_LIMIT).map(line => clip(line, STEP_LOG_LINE_MAX)),
    error: clipMessage(step.error),
  }))
  let size = getConvexSize(bounded)
  while (size > RUN_STEPS_BUDGET_BYTES) {
    let longest: StoredStep | undefined
    for (const step of bounded) {
      if (step.log.length > 0 && (!longest || step.log.length > longest.log.length)) longest = step
    }
    // Only empty logs left: names and timestamps alone are far below the budget.
    if (!longest) break
    size -= getConvexSize(longest.log.shift())
  }
  return bounded
}

/** Lists take 1 to 1000 documents, whatever is asked (as the SQLite store's `listRuns`). */
export function clampLimit(limit: number): number {
  return Math.max(1, Math.min(Math.trunc(limit), 1000))
}
