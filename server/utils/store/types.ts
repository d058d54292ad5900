/**
 * The web's state, storage-neutral: the embedded SQLite store and the Convex store implement
 * it, and both must pass the same contract tests. Every method is async because Convex is.
 */
import type { Channel } from '../../../shared/version'
import type { RequestedBy, Step } from '../../../shared/schemas/common'
import type { Run, RunAcknowledgement, UserRole } from '../../../shared/schemas/api'
import type { Job } from '../../../shared/schemas/job'
import type { Release } from '../../../shared/schemas/release'
import type { RunKind, RunStatus } from '../../../shared/run-state'

export interface StoredUser {
  id: string
  email: string
  role: UserRole
  passwordHash: string
  createdAt: number
}

export interface NewUser {
  email: string
  role: UserRole
  passwordHash: string
}

export interface NewRun {
  kind: RunKind
  fromVersion: string
  toVersion: string
  requestedBy: RequestedBy
}

/** What a sync from the sidecar (or a reconciliation) may change on a run. */
export interface RunPatch {
  status?: RunStatus
  steps?: Step[]
  reason?: string | null
  endedAt?: number | null
}

export interface ReleaseCache {
  releases: Release[]
  /** When the source was last asked (successfully or not); null when never. */
  checkedAt: number | null
  /** Why the last check failed; null when it succeeded. */
  error: string | null
}

/**
 * What keeps release checks cheap and polite, beside the cache: the source's validators for the
 * cached list and when the source may be asked next. Survives restarts and is shared by replicas.
 */
export interface ReleaseCheckState {
  /** The scheduled check's next slot; replicas take it with `claimReleaseCheck`. */
  nextCheckAt: number | null
  /** The source rate-limited us: no request before this time, not even "Check now". */
  retryAt: number | null
  /** The source's validator for the cached list (GitHub: the ETag of the first page). */
  etag: string | null
  /** Per cached version, what its verification was computed from; unchanged ones are not downloaded again. */
  fingerprints: Record<string, string>
}

export const EMPTY_CHECK_STATE: ReleaseCheckState = { nextCheckAt: null, retryAt: null, etag: null, fingerprints: {} }

export interface SystemSettings {
  channel: Channel
}

export const DEFAULT_SETTINGS: SystemSettings = { channel: 'stable' }

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

export interface SystemStore {
  getUserByEmail(email: string): Promise<StoredUser | null>
  getUserById(id: string): Promise<StoredUser | null>
  /** Emails are stored lower-case; throws `DuplicateUserError`. */
  createUser(user: NewUser): Promise<StoredUser>

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

  dismiss(userId: string, version: string): Promise<void>
  isDismissed(userId: string, version: string): Promise<boolean>

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

  getSettings(): Promise<SystemSettings>
  updateSettings(patch: Partial<SystemSettings>): Promise<SystemSettings>

  close(): Promise<void>
}
