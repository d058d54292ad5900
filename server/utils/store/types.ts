/**
 * The web's state, storage-neutral: the embedded SQLite store and the Convex store implement
 * it, and both must pass the same contract tests. Every method is async because Convex is.
 */
import type { Channel } from '../../../shared/version'
import type { RequestedBy, Step } from '../../../shared/schemas/common'
import type { Run, UserRole } from '../../../shared/schemas/api'
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

  dismiss(userId: string, version: string): Promise<void>
  isDismissed(userId: string, version: string): Promise<boolean>

  getReleaseCache(): Promise<ReleaseCache>
  saveReleaseCache(cache: ReleaseCache): Promise<void>

  getSettings(): Promise<SystemSettings>
  updateSettings(patch: Partial<SystemSettings>): Promise<SystemSettings>

  close(): Promise<void>
}
