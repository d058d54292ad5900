/**
 * The web's state, storage-neutral: the embedded SQLite store and the Convex store implement
 * it, and both must pass the same contract tests. Every method is async because Convex is.
 */
import { z } from 'zod'
import type { NewRun, NewUser, Run, RunAcknowledgement, RunPatch, Settings, StoredSettingsPatch, StoredUser, UserPatch } from '../../../shared/schemas/api'
import type { NotificationPreference } from '../../../shared/notifications'
import type { OutboxStore } from '../../../shared/node/notify/outbox'
import type { Job } from '../../../shared/schemas/job'
import type { ReleaseCache, ReleaseTrust } from '../../../shared/schemas/release'

// The records are the shared schemas' (shared/schemas): the Convex validators and the SQLite rows
// are derived from the same ones.
export type { NewRun, NewUser, ReleaseCache, ReleaseTrust, RunPatch, StoredUser, UserPatch }

/**
 * What keeps release checks cheap and polite, beside the cache: the source's validators for the
 * cached list and when the source may be asked next. Survives restarts and is shared by replicas.
 */
export const releaseCheckStateSchema = z.object({
  /** The scheduled check's next slot; replicas take it with `claimReleaseCheck`. */
  nextCheckAt: z.number().nullable(),
  /** The source rate-limited us: no request before this time, not even "Check now". */
  retryAt: z.number().nullable(),
  /** The source's validator for the cached list (GitHub: the ETag of the first page). */
  etag: z.string().nullable(),
  /** Per cached version, what its verification was computed from; unchanged ones are not downloaded again. */
  fingerprints: z.record(z.string(), z.string()),
})
export type ReleaseCheckState = z.infer<typeof releaseCheckStateSchema>

export const EMPTY_CHECK_STATE: ReleaseCheckState = { nextCheckAt: null, retryAt: null, etag: null, fingerprints: {} }

export type SystemSettings = Settings

export { DEFAULT_SETTINGS, mergeSettings } from '../../../shared/schemas/api'

/** Thrown by `openRun` when another run is queued or running. */
export class ActiveRunError extends Error {
  constructor(readonly activeRunId: string | null) {
    super(activeRunId ? `run ${activeRunId} is still active` : 'another run is still active')
    this.name = 'ActiveRunError'
  }
}

export class RunNotFoundError extends Error {
  constructor(readonly runId: string) {
    super(`no run ${runId}`)
    this.name = 'RunNotFoundError'
  }
}

export class DuplicateUserError extends Error {
  constructor(readonly email: string) {
    super(`a user with email ${email} already exists`)
    this.name = 'DuplicateUserError'
  }
}

export class UserNotFoundError extends Error {
  constructor(readonly userId: string) {
    super(`no user ${userId}`)
    this.name = 'UserNotFoundError'
  }
}

export interface SystemStore {
  getUserByEmail(email: string): Promise<StoredUser | null>
  getUserById(id: string): Promise<StoredUser | null>
  /** Emails are stored lower-case; throws `DuplicateUserError`. */
  createUser(user: NewUser): Promise<StoredUser>
  /** Every user, by email. */
  listUsers(): Promise<StoredUser[]>
  /**
   * Sets the role and/or the password hash. A new password or another role ends every session of
   * the user (raises `sessionVersion`); a patch that changes nothing changes nothing. Throws
   * `UserNotFoundError`.
   */
  updateUser(id: string, patch: UserPatch): Promise<StoredUser>
  /** Ends every session of the user (raises `sessionVersion`); null when there is no such user. */
  revokeSessions(id: string): Promise<StoredUser | null>
  /** Which notifications the user gets by email; sessions are untouched. Throws `UserNotFoundError`. */
  setNotificationPreference(id: string, preference: NotificationPreference): Promise<StoredUser>

  /** Creates a `queued` run; throws `ActiveRunError` when one is active (enforced by storage). */
  openRun(run: NewRun): Promise<Run>
  attachJob(runId: string, jobId: string): Promise<Run>
  /** Applies a patch; a status change must be a legal transition (`assertTransition`). */
  updateRun(runId: string, patch: RunPatch): Promise<Run>
  getRun(runId: string): Promise<Run | null>
  /** The run a sidecar job belongs to (job ids are unique across runs); null when none has it. */
  getRunByJobId(jobId: string): Promise<Run | null>
  /**
   * Records a job the web did not dispatch (the CLI's, say) as a run of its own, copying the job's
   * kind, versions, status, reason, requester, steps, start (`startedAt ?? createdAt`) and end.
   * Idempotent: when a run already has this job id, returns that run unchanged. An active job
   * obeys the single-active rule like `openRun` and throws `ActiveRunError` while another run is
   * active: the caller reconciles that run against the sidecar first (the store cannot ask it).
   */
  adoptJob(job: Job): Promise<Run>
  getActiveRun(): Promise<Run | null>
  /** Newest first. */
  listRuns(limit: number): Promise<Run[]>

  /**
   * Records that an admin acknowledged a finished run (the banner about a failed or rolled-back
   * run goes away for every admin). Idempotent: the first acknowledgement stands and is returned.
   * Throws `RunNotFoundError`.
   */
  acknowledgeRun(runId: string, by: { userId: string, email: string }): Promise<RunAcknowledgement>
  getAcknowledgement(runId: string): Promise<RunAcknowledgement | null>

  /** Idempotent; `by` is the admin as the user resolver named them (the audit trail records the email). */
  dismiss(by: { userId: string, email: string }, version: string): Promise<void>
  isDismissed(userId: string, version: string): Promise<boolean>

  /**
   * Records that an admin imported an offline release bundle (the release itself goes to the
   * release folder, not the store) in the audit trail. Stores without one (SQLite) leave it out.
   */
  recordReleaseImport?(by: { userId: string, email: string }, release: { version: string, images: number, indexExpired: boolean }): Promise<void>

  getReleaseCache(): Promise<ReleaseCache>
  saveReleaseCache(cache: ReleaseCache): Promise<void>

  getReleaseCheckState(): Promise<ReleaseCheckState>
  /** Replaces the fields the patch names; `nextCheckAt` changes only through `claimReleaseCheck`. */
  saveReleaseCheckState(patch: Partial<Omit<ReleaseCheckState, 'nextCheckAt'>>): Promise<void>
  /**
   * Takes the scheduled check, atomically across replicas: when no slot is set or it is due
   * (`nextCheckAt <= now`), sets `nextCheckAt = nextAt` and returns true; otherwise changes
   * nothing and returns false. Of several concurrent callers with the same `now`, exactly one wins.
   */
  claimReleaseCheck(now: number, nextAt: number): Promise<boolean>

  /** What release indexes taught this instance (`EMPTY_RELEASE_TRUST` before the first). */
  getReleaseTrust(): Promise<ReleaseTrust>
  /**
   * Replaces the fields the patch names. The ratchet lives here: a patch whose `highestSerial` is
   * lower than the stored one changes nothing and returns false (also between replicas).
   */
  saveReleaseTrust(patch: Partial<ReleaseTrust>): Promise<boolean>

  getSettings(): Promise<SystemSettings>
  /**
   * Applies the fields the patch names, validated as a whole (`mergeSettings`; throws and saves
   * nothing on bad input). `actor`: the email of the admin who changed them, for the audit trail.
   */
  updateSettings(patch: StoredSettingsPatch, actor?: string | null): Promise<SystemSettings>

  /**
   * Takes the scheduler's slot (automatic updates), atomically across replicas, as
   * `claimReleaseCheck` does: when no slot is set or it is due, sets it to `nextAt` and returns true.
   */
  claimAutoUpdate(now: number, nextAt: number): Promise<boolean>

  /** The notification outbox, in the same store: delivered once per event and target across replicas. */
  readonly outbox: OutboxStore

  /**
   * Throws, naming the store, when it cannot serve requests (`/api/healthz` asks). Stores without
   * one (Convex, whose outages the routes already report as 503) count as healthy.
   */
  check?(): Promise<void>

  close(): Promise<void>
}
