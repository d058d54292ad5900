/**
 * What the Convex functions share: validators for the documents and payloads (the same shapes as
 * `shared/schemas`, which Convex cannot use because it validates with its own `v`), the error data
 * the web turns back into the store's typed errors, and the bounds that keep run documents small.
 */
import { ConvexError, getConvexSize, v, type Infer } from 'convex/values'
import { RUN_KINDS, RUN_STATUSES } from '../shared/run-state'
import { ALL_STEPS, STEP_LOG_LIMIT, STEP_STATUSES } from '../shared/steps'
import type { Doc } from './_generated/dataModel'

/** A union of string literals from one of the shared `as const` lists. */
export function literals<const T extends string>(values: readonly T[]) {
  return v.union(...values.map(value => v.literal(value)))
}

const nullable = <T extends Parameters<typeof v.union>[number]>(validator: T) => v.union(validator, v.null())

export const channelValidator = literals(['stable', 'beta'])
export const runKindValidator = literals(RUN_KINDS)
export const runStatusValidator = literals(RUN_STATUSES)
export const userRoleValidator = literals(['platform-admin', 'member'])

export const requestedByValidator = v.object({
  email: nullable(v.string()),
  via: literals(['web', 'cli', 'system']),
})

export const stepValidator = v.object({
  name: literals(ALL_STEPS),
  status: literals(STEP_STATUSES),
  startedAt: nullable(v.number()),
  endedAt: nullable(v.number()),
  log: v.array(v.string()),
  error: nullable(v.string()),
})
export type StoredStep = Infer<typeof stepValidator>

/** A run as stored (the `runs` table) minus Convex's system fields. */
export const runFields = {
  jobId: nullable(v.string()),
  kind: runKindValidator,
  fromVersion: v.string(),
  toVersion: v.string(),
  status: runStatusValidator,
  reason: nullable(v.string()),
  requestedBy: requestedByValidator,
  startedAt: v.number(),
  endedAt: nullable(v.number()),
  steps: v.array(stepValidator),
}

/** A run as the web sees it (`Run` in shared/schemas/api.ts): the document id becomes `id`. */
export const runValidator = v.object({ id: v.string(), ...runFields })
export type RunView = Infer<typeof runValidator>

export function toRunView(doc: Doc<'runs'>): RunView {
  return {
    id: doc._id,
    jobId: doc.jobId,
    kind: doc.kind,
    fromVersion: doc.fromVersion,
    toVersion: doc.toVersion,
    status: doc.status,
    reason: doc.reason,
    requestedBy: doc.requestedBy,
    startedAt: doc.startedAt,
    endedAt: doc.endedAt,
    steps: doc.steps,
  }
}

/** A sidecar job (`Job` in shared/schemas/job.ts), as `runs.adoptJob` receives it. */
export const jobValidator = v.object({
  id: v.string(),
  runId: nullable(v.string()),
  kind: runKindValidator,
  fromVersion: v.string(),
  toVersion: v.string(),
  status: runStatusValidator,
  reason: nullable(v.string()),
  requestedBy: requestedByValidator,
  createdAt: v.number(),
  startedAt: nullable(v.number()),
  endedAt: nullable(v.number()),
  steps: v.array(stepValidator),
  /** The data backup the job took; the run does not keep it (the web reads it from the sidecar). */
  backup: v.optional(nullable(v.object({ path: v.string(), createdAt: v.number(), sizeBytes: v.number() }))),
})

/** A release as the web lists it (`Release` in shared/schemas/release.ts). */
export const releaseFields = {
  version: v.string(),
  channel: channelValidator,
  publishedAt: v.string(),
  severity: literals(['normal', 'security']),
  notes: v.string(),
  notesHtml: v.string(),
  migratesData: v.boolean(),
  rollbackFloor: nullable(v.string()),
  verified: v.boolean(),
  verifyError: nullable(v.string()),
}
export const releaseValidator = v.object(releaseFields)

/**
 * Expected refusals travel as `ConvexError` data: Convex passes that data to the client intact,
 * whereas a plain `Error` thrown by a function reaches a production client only as "Server Error".
 */
export type StoreErrorData
  = | { code: 'ACTIVE_RUN', activeRunId: string | null }
    | { code: 'RUN_NOT_FOUND', runId: string }
    | { code: 'DUPLICATE_USER', email: string }
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
