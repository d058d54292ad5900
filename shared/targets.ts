/**
 * Whether a release may be the target of an update or a rollback, with the reason when not: the
 * channel, a known version, the rollback floor of every release a rollback undoes, verified
 * artifacts. One rule for every process: the web and the CLI use it to explain (and to list the
 * rollback dialog's targets), the sidecar's admission enforces it for every job, from any client.
 * Each passes in what it knows (releases, the runs or jobs this instance had). Browser-safe.
 */
import { isTerminalStatus, RUN_STATUS_TEXT, type RunKind, type RunStatus } from './run-state'
import type { FailedAttempt, RollbackCandidate, RunBackup } from './schemas/api'
import type { JobBackup } from './schemas/job'
import type { Release } from './schemas/release'
import { JOB_STEPS, PROMOTE_INDEX, RESTORE_STEPS } from './steps'
import { compareVersions, isOnChannel, isPrerelease, isReleaseOnChannel, isVersion, sortVersionsDesc, type Channel } from './version'

/** What the rules read of a past run (a web run or a sidecar job). */
export interface RunRecord {
  id: string
  /** The sidecar job behind it (a job's own id for a job). */
  jobId: string | null
  fromVersion: string
  toVersion: string
  status: RunStatus
  startedAt: number
  endedAt: number | null
  /** Why it ended as it did (a failure's cause); absent where the caller does not know. */
  reason?: string | null
  /** Its steps, to tell a failure that changed the stack from one that stopped before. */
  steps?: ReadonlyArray<{ name: string, status: string, hop?: number, endedAt?: number | null }>
  /** A run through required upgrade stops: the versions it installs, one hop each. */
  path?: readonly string[] | null
  /** A rehearsal ran its target on a copy: it says nothing of what ran here (absent: an update or rollback). */
  kind?: string
}

/** Whether the run ran anything on the stack itself (a rehearsal never does). */
function ranOnTheStack(run: Pick<RunRecord, 'kind'>): boolean {
  return run.kind !== 'rehearsal'
}

type JobLike = { id: string, kind?: string, fromVersion: string, toVersion: string, status: RunStatus, createdAt: number, startedAt: number | null, endedAt: number | null, reason: string | null, steps: ReadonlyArray<{ name: string, status: string, hop?: number, endedAt?: number | null }>, path?: readonly string[] | null }

/** The sidecar's jobs as run records (a queued job has not started: its creation counts). */
export function runRecordsOfJobs(jobs: ReadonlyArray<JobLike>): RunRecord[] {
  return jobs.map(job => ({
    id: job.id,
    jobId: job.id,
    fromVersion: job.fromVersion,
    toVersion: job.toVersion,
    status: job.status,
    startedAt: job.startedAt ?? job.createdAt,
    endedAt: job.endedAt,
    reason: job.reason,
    steps: job.steps,
    path: job.path,
    kind: job.kind,
  }))
}

/**
 * The versions a run installed and committed, each with when: its target once it succeeded, and
 * for a run through required upgrade stops each hop that committed (shared/hops.ts), even when a
 * later hop failed. Those versions ran here.
 */
function committedBy(run: RunRecord): Array<{ version: string, at: number }> {
  const end = run.endedAt ?? run.startedAt
  if (!run.path || run.path.length < 2 || !run.steps) return run.status === 'succeeded' ? [{ version: run.toVersion, at: end }] : []
  return run.path.flatMap((version, hop) => {
    const commit = run.steps!.find(s => s.name === 'commit' && (s.hop ?? 0) === hop && s.status === 'succeeded')
    return commit ? [{ version, at: commit.endedAt ?? end }] : []
  })
}

/** Allowed: the target release, and for a rollback every release it undoes (newest first). */
export type TargetCheck
  = | { ok: true, release: Release, undoes: Release[] }
    | { ok: false, reason: string, /** Set when the refusal is only that the target failed here before. */ failedHere?: FailedAttempt }

const CHANGING_STEPS: readonly string[] = [...JOB_STEPS.slice(PROMOTE_INDEX), ...RESTORE_STEPS]

/**
 * Whether a finished run tried its target on the stack and the target did not hold: rolled back,
 * or failed once the stack had changed (the restore itself failed). A run that failed before
 * `promote` (a full disk, an unreachable registry) never ran the target, so it says nothing about it.
 */
function triedAndFailed(run: RunRecord): boolean {
  if (run.status === 'rolled_back') return true
  if (run.status !== 'failed') return false
  const restoring = (name: string) => (RESTORE_STEPS as readonly string[]).includes(name)
  return (run.steps ?? []).some(s => CHANGING_STEPS.includes(s.name) && (s.status === 'failed' || (restoring(s.name) && s.status !== 'pending')))
}

/**
 * The releases that failed on this instance, newest failure first: those whose latest attempt
 * (the newest finished run to them that ran them or succeeded) was rolled back or failed after
 * changing the stack. A later success clears the mark. The banner does not offer them, and
 * installing one again must be asked for explicitly (`retryFailed`), by the web, the CLI and the
 * updater alike.
 */
export function failedReleases(runs: ReadonlyArray<RunRecord>): FailedAttempt[] {
  const latest = new Map<string, RunRecord>()
  for (const run of runs) {
    if (!ranOnTheStack(run) || !isTerminalStatus(run.status) || (run.status !== 'succeeded' && !triedAndFailed(run))) continue
    const seen = latest.get(run.toVersion)
    if (!seen || (run.endedAt ?? run.startedAt) > (seen.endedAt ?? seen.startedAt)) latest.set(run.toVersion, run)
  }
  return [...latest.values()]
    .filter(run => run.status !== 'succeeded')
    .map(run => ({
      version: run.toVersion,
      runId: run.jobId ?? run.id,
      status: run.status as FailedAttempt['status'],
      endedAt: run.endedAt ?? run.startedAt,
      reason: run.reason ?? null,
    }))
    .sort((a, b) => b.endedAt - a.endedAt)
}

/** Why a target that failed here is not installed again without being asked for explicitly. */
export function failedHereReason(failed: FailedAttempt): string {
  return `${failed.version} already failed on this instance (run ${failed.runId}, ${RUN_STATUS_TEXT[failed.status]}${failed.reason ? `: ${failed.reason}` : ''}); installing it again must be asked for explicitly (try again anyway)`
}

function refuseFailedHere(target: string, runs: ReadonlyArray<RunRecord> | undefined, retryFailed: boolean | undefined): TargetCheck | null {
  if (retryFailed) return null
  const failed = failedReleases(runs ?? []).find(f => f.version === target)
  return failed ? { ok: false, reason: failedHereReason(failed), failedHere: failed } : null
}

export interface TargetInput {
  kind: RunKind
  targetVersion: string
  currentVersion: string
  channel: Channel
  releases: Release[]
  /** The instance's runs, any order (for rollbacks: versions it ran count as known). */
  runs?: RunRecord[]
  /** Install it even though it failed on this instance before ("try again anyway"). */
  retryFailed?: boolean
}

export function checkTarget(opts: TargetInput): TargetCheck {
  const { kind, targetVersion: target, currentVersion: current, channel, releases } = opts
  if (kind === 'rollback') return checkRollbackTarget({ ...opts, runs: opts.runs ?? [] })
  if (kind === 'restore') return { ok: false, reason: 'a restore puts back a backup archive, not a release' }
  const release = releases.find(r => r.version === target)
  if (!release) return { ok: false, reason: `Unknown version ${target}: no such release is known` }
  if (!isVersion(current)) {
    return { ok: false, reason: `The running version "${current}" is not a release version, so it cannot be ${kind === 'update' ? 'updated' : 'rolled back'}` }
  }
  if (!isReleaseOnChannel(release, channel)) {
    return {
      ok: false,
      reason: isPrerelease(target)
        ? `${target} is a pre-release; switch the update channel to beta to install it`
        : `${target} is published on the beta channel; switch the update channel to beta to install it`,
    }
  }
  if (compareVersions(target, current) <= 0) {
    return { ok: false, reason: `${target} is not newer than the running version ${current}` }
  }
  if (!release.verified) {
    return { ok: false, reason: `Release ${target} failed verification and cannot be installed: ${release.verifyError ?? 'unknown reason'}` }
  }
  // Rehearsing a release that failed here is how an admin finds out whether it would now hold.
  if (kind === 'rehearsal') return { ok: true, release, undoes: [] }
  return refuseFailedHere(target, opts.runs, opts.retryFailed) ?? { ok: true, release, undoes: [] }
}

export interface RollbackInput {
  currentVersion: string
  channel: Channel
  releases: Release[]
  /** The instance's runs, any order. */
  runs: RunRecord[]
  /** Whether the driver can restore data; without it no backup is offered. */
  backupsSupported: boolean
  /** Backups the sidecar recorded, by job id (only the jobs asked for need to be here). */
  jobBackups?: ReadonlyMap<string, JobBackup>
}

/**
 * When this instance last ran `version`: the start of a run that left it (it was running then), or
 * the end of a run that succeeded onto it. Null when it never did.
 */
function ranHereAt(version: string, runs: RunRecord[]): number | null {
  let at: number | null = null
  for (const run of runs) {
    if (!ranOnTheStack(run)) continue
    const seen = run.fromVersion === version
      ? run.startedAt
      : committedBy(run).find(c => c.version === version)?.at ?? null
    if (seen !== null && (at === null || seen > at)) at = seen
  }
  return at
}

/**
 * The run whose job may hold the backup a rollback to `version` would restore: the newest run
 * that succeeded in leaving it. Its backup holds the data as it was on `version`; an older one
 * would be stale, so only this run counts.
 */
export function leavingRun<R extends RunRecord>(version: string, runs: R[]): R | null {
  return [...runs]
    .filter(r => r.fromVersion === version && r.status === 'succeeded' && r.jobId !== null)
    .sort((a, b) => b.startedAt - a.startedAt)[0] ?? null
}

interface Assessed {
  version: string
  release: Release | null
  ranHereAt: number | null
  /** Every counted release after the target, up to the running one, newest first. */
  undone: Release[]
  disabledReason: string | null
}

/**
 * Every version a rollback from the running one may go to: older releases the source lists
 * (pre-releases only on the beta channel) and versions this instance ran, newest first.
 */
function assessRollbacks(input: Omit<RollbackInput, 'backupsSupported' | 'jobBackups'>): Assessed[] {
  const { currentVersion: current, channel, releases, runs } = input
  if (!isVersion(current)) return []
  const byVersion = new Map(releases.map(r => [r.version, r]))
  const ran = new Map<string, number | null>()
  const consider = (version: string) => {
    if (!ran.has(version)) ran.set(version, ranHereAt(version, runs))
  }
  for (const run of runs) {
    consider(run.fromVersion)
    for (const { version } of committedBy(run)) consider(version)
  }
  for (const r of releases) consider(r.version)
  /** A release counts when the channel offers it (by its version and its manifest's channel) or this instance ran it. */
  const counts = (version: string) => {
    const release = byVersion.get(version)
    return (release ? isReleaseOnChannel(release, channel) : isOnChannel(version, channel)) || (ran.get(version) ?? null) !== null
  }

  const versions = [...ran.keys()].filter(v => isVersion(v) && compareVersions(v, current) < 0 && counts(v))
  return sortVersionsDesc(versions, v => v).map((version): Assessed => {
    const release = byVersion.get(version) ?? null
    const undone = sortVersionsDesc(
      releases.filter(r => compareVersions(r.version, version) > 0 && compareVersions(r.version, current) <= 0 && counts(r.version)),
      r => r.version,
    )
    const blocking = undone.find(r => r.migratesData && r.rollbackFloor !== null && compareVersions(version, r.rollbackFloor) < 0)
    let disabledReason: string | null = null
    if (!release) disabledReason = `The release source no longer lists ${version}, so its files cannot be verified`
    else if (!release.verified) disabledReason = `Release ${version} failed verification and cannot be installed: ${release.verifyError ?? 'unknown reason'}`
    else if (blocking) disabledReason = `${blocking.version} migrated data and cannot roll back below ${blocking.rollbackFloor}`
    return { version, release, ranHereAt: ran.get(version) ?? null, undone, disabledReason }
  })
}

/**
 * Every version a rollback from the running one may be offered, newest first, each with the reason
 * it cannot be chosen (null when it can), what it would undo, and the data backup it can restore.
 * The one rule behind the rollback dialog and `POST /api/system/rollbacks`.
 */
export function rollbackCandidates(input: RollbackInput): RollbackCandidate[] {
  const failed = failedReleases(input.runs)
  return assessRollbacks(input).map((candidate): RollbackCandidate => {
    let backup: RunBackup | null = null
    const leaving = input.backupsSupported ? leavingRun(candidate.version, input.runs) : null
    const taken = leaving?.jobId ? input.jobBackups?.get(leaving.jobId) : undefined
    if (leaving?.jobId && taken) backup = { runId: leaving.id, jobId: leaving.jobId, ...taken }
    return {
      version: candidate.version,
      publishedAt: candidate.release?.publishedAt ?? null,
      ranHereAt: candidate.ranHereAt,
      disabledReason: candidate.disabledReason,
      undoes: candidate.undone.map(r => ({ version: r.version, publishedAt: r.publishedAt, notesHtml: r.notesHtml, migratesData: r.migratesData, rollbackFloor: r.rollbackFloor })),
      backup,
      failedHere: failed.find(f => f.version === candidate.version) ?? null,
    }
  })
}

/** Whether `targetVersion` may be rolled back to, by the same rule the dialog lists. */
export function checkRollbackTarget(opts: Omit<RollbackInput, 'backupsSupported' | 'jobBackups'> & { targetVersion: string, retryFailed?: boolean }): TargetCheck {
  const { targetVersion: target, currentVersion: current } = opts
  if (!isVersion(current)) {
    return { ok: false, reason: `The running version "${current}" is not a release version, so it cannot be rolled back` }
  }
  if (compareVersions(target, current) >= 0) {
    return { ok: false, reason: `${target} is not older than the running version ${current}; a rollback must target an earlier release` }
  }
  const candidate = assessRollbacks(opts).find(c => c.version === target)
  if (!candidate) {
    const release = opts.releases.find(r => r.version === target)
    return {
      ok: false,
      reason: release
        ? `${target} is ${isPrerelease(target) ? 'a pre-release' : 'a beta-channel release'} this instance never ran; switch the update channel to beta to roll back to it`
        : `Unknown version ${target}: it was never installed here nor released`,
    }
  }
  if (candidate.disabledReason || !candidate.release) return { ok: false, reason: candidate.disabledReason ?? `Unknown version ${target}` }
  return refuseFailedHere(target, opts.runs, opts.retryFailed) ?? { ok: true, release: candidate.release, undoes: candidate.undone }
}

/** Versions this instance ran: the running one, each a run left, and each a run succeeded onto. */
export function versionsRanHere(currentVersion: string, runs: ReadonlyArray<RunRecord>): string[] {
  const ran = new Set([currentVersion])
  for (const run of runs) {
    ran.add(run.fromVersion)
    for (const { version } of committedBy(run)) ran.add(version)
  }
  const versions = [...ran].filter(isVersion)
  return [...sortVersionsDesc(versions, v => v), ...[...ran].filter(v => !isVersion(v))]
}

/**
 * Whether "Roll back…" has anything to offer, and when not, why, in words that match what this
 * instance did: the versions it ran, and what the release source lists.
 */
export function rollbackAvailability(input: Omit<RollbackInput, 'backupsSupported' | 'jobBackups'>): { available: boolean, reason: string | null } {
  const candidates = assessRollbacks(input)
  if (candidates.some(c => c.disabledReason === null)) return { available: true, reason: null }
  if (candidates.length > 0) return { available: false, reason: `No earlier version can be installed: ${candidates[0]!.version}: ${candidates[0]!.disabledReason}` }
  const current = input.currentVersion
  const ran = versionsRanHere(current, input.runs)
  const history = ran.length <= 1
    ? `this instance has only run ${current}`
    : `this instance ran ${ran.join(', ')}, none of them older than the running ${current}`
  return { available: false, reason: `No earlier version to roll back to: ${history}, and the release source lists no older release.` }
}
