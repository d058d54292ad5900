/**
 * Keeping the web's runs true to the sidecar's journal, which is the record of what ran. Jobs the
 * web dispatched are synced into their runs, jobs started elsewhere (the `owlat` CLI) are adopted
 * as runs of their own, and a run the store still calls active either follows its job or ends as
 * failed with a reason: nothing stays active forever. Framework-independent.
 */
import { canTransition, isActiveStatus, type RunStatus } from '../../shared/run-state'
import type { Run } from '../../shared/schemas/api'
import type { Job, JobRequest } from '../../shared/schemas/job'
import { SidecarRejectedError, SidecarUnreachableError, type SidecarClient } from './sidecar'
import { ActiveRunError, type RunPatch, type SystemStore } from './store/types'

/** A run without a job this long after it opened lost its dispatch (the web died mid-request). */
export const DISPATCH_GRACE_MS = 60_000
/** How many of the sidecar's newest jobs a sync reads: far more than can start between two reads. */
export const SYNC_JOB_LIMIT = 20

export interface ReconcileDeps {
  store: SystemStore
  sidecar: SidecarClient
  /** How long a run may go without hearing from the sidecar (`config.runLeaseMs`). */
  leaseMs: number
  now?: () => number
  /**
   * Jobs already known to have a run, kept across syncs: runs are never deleted, so a job found
   * once need not be looked up again on every sync.
   */
  knownJobs?: Set<string>
  /**
   * Told of a run that was opened, adopted or changed status (the notifications of issue 17).
   * Must not throw; a failure here never changes what happens to the run.
   */
  onRunChanged?: (run: Run) => void | Promise<void>
}

async function tell(deps: ReconcileDeps, run: Run): Promise<void> {
  try {
    await deps.onRunChanged?.(run)
  }
  catch (err) {
    console.warn(`[runs] could not report run ${run.id}: ${err instanceof Error ? err.message : String(err)}`)
  }
}

/** Jobs adopted this long after they ended are history, not news: nobody is told of them. */
const ADOPTED_NEWS_MS = 10 * 60_000

/** One read of the sidecar's recent jobs: what it listed, or why that failed. */
export type JobListing = { ok: true, jobs: Job[] } | { ok: false, error: unknown }

async function listRecentJobs(deps: ReconcileDeps): Promise<JobListing> {
  try {
    return { ok: true, jobs: await deps.sidecar.listJobs(SYNC_JOB_LIMIT) }
  }
  catch (error) {
    return { ok: false, error }
  }
}

/** The legal steps from the run's status to the job's; queued → succeeded goes through running. */
function statusPath(from: RunStatus, to: RunStatus): RunStatus[] | null {
  if (from === to) return []
  if (canTransition(from, to)) return [to]
  if (canTransition(from, 'running') && canTransition('running', to)) return ['running', to]
  return null
}

async function applyPatches(deps: ReconcileDeps, run: Run, patches: RunPatch[]): Promise<Run> {
  let current = run
  try {
    for (const patch of patches) current = await deps.store.updateRun(run.id, patch)
    if (current.status !== run.status) await tell(deps, current)
    return current
  }
  catch (err) {
    // Another request reconciled the same run first; its result stands.
    const fresh = await deps.store.getRun(run.id)
    if (fresh && !isActiveStatus(fresh.status)) return fresh
    throw err
  }
}

function syncFromJob(deps: ReconcileDeps, run: Run, job: Job): Promise<Run> {
  const path = statusPath(run.status, job.status)
  const data: RunPatch = { steps: job.steps, reason: job.reason, endedAt: job.endedAt }
  if (!path) {
    // The journal went somewhere the run cannot follow (should not happen): keep steps current.
    console.warn(`[runs] run ${run.id} is ${run.status} but job ${job.id} is ${job.status}; syncing steps only`)
    return applyPatches(deps, run, [{ steps: job.steps }])
  }
  const patches: RunPatch[] = path.length === 0
    ? [data]
    : path.map((status, i) => (i === path.length - 1 ? { ...data, status } : { status }))
  return applyPatches(deps, run, patches)
}

function fail(deps: ReconcileDeps, run: Run, reason: string): Promise<Run> {
  return applyPatches(deps, run, [{ status: 'failed', reason }])
}

/** The sidecar cannot be asked right now (it may be restarting): the run keeps its lease. */
function withinLease(deps: ReconcileDeps, run: Run, now: number): Promise<Run> | Run {
  return now - run.startedAt > deps.leaseMs ? fail(deps, run, 'updater unreachable; lease expired') : run
}

/** Attaches a job the sidecar accepted for this run (found by its `runId`) and syncs the run from it. */
async function attachAccepted(deps: ReconcileDeps, run: Run, job: Job): Promise<Run> {
  return syncFromJob(deps, await deps.store.attachJob(run.id, job.id), job)
}

/**
 * Brings one active run in line with its job. `listing`, when given, is a read of the sidecar's
 * recent jobs that this reconciliation uses instead of asking again.
 */
export async function reconcileRun(run: Run, deps: ReconcileDeps, listing?: JobListing): Promise<Run> {
  if (!isActiveStatus(run.status)) return run
  const now = (deps.now ?? Date.now)()
  if (!run.jobId) {
    // The sidecar may have accepted the job although the web never heard back (it died or timed
    // out mid-request): look for a job carrying this run's id before giving up on the dispatch.
    const seen = listing ?? await listRecentJobs(deps)
    if (!seen.ok) return withinLease(deps, run, now)
    const accepted = seen.jobs.find(j => j.runId === run.id)
    if (accepted) return attachAccepted(deps, run, accepted)
    return now - run.startedAt > DISPATCH_GRACE_MS ? fail(deps, run, 'dispatch never completed') : run
  }
  let job = listing?.ok ? listing.jobs.find(j => j.id === run.jobId) : undefined
  if (!job) {
    // The list request just failed to connect: a second request would only wait the same way.
    if (listing && !listing.ok && listing.error instanceof SidecarUnreachableError) return withinLease(deps, run, now)
    try {
      job = await deps.sidecar.getJob(run.jobId)
    }
    catch (err) {
      if (err instanceof SidecarRejectedError && err.status === 404) {
        return fail(deps, run, `the updater has no record of job ${run.jobId}`)
      }
      // Unreachable (or answering nonsense): give it the lease.
      return withinLease(deps, run, now)
    }
  }
  return syncFromJob(deps, run, job)
}

/** Makes sure a listed job has a run: the web's own (attached by reconciliation) or an adopted one. */
async function syncJob(deps: ReconcileDeps, job: Job, listing: JobListing): Promise<void> {
  // A known job's run is synced already: only the active run can change, and it went first.
  if (deps.knownJobs?.has(job.id)) return
  if (await deps.store.getRunByJobId(job.id)) {
    deps.knownJobs?.add(job.id)
    return
  }
  if (job.runId) {
    const own = await deps.store.getRun(job.runId)
    if (own && own.jobId === null && isActiveStatus(own.status)) {
      await reconcileRun(own, deps, listing)
      return
    }
    // Otherwise the web closed that run without knowing the sidecar had taken the job (or this
    // store never had it): the job gets a run of its own, so its true outcome is on record.
  }
  try {
    const adopted = await deps.store.adoptJob(job)
    const now = (deps.now ?? Date.now)()
    if (isActiveStatus(adopted.status) || (adopted.endedAt ?? 0) > now - ADOPTED_NEWS_MS) await tell(deps, adopted)
  }
  catch (err) {
    if (!(err instanceof ActiveRunError)) throw err
    // The store's run is still active after reconciliation (a web dispatch in flight, which the
    // sidecar will refuse while this job runs): the next read adopts the job once that run closed.
    console.warn(`[runs] job ${job.id} is ${job.status} but run ${err.activeRunId ?? '?'} is still active; adopting it later`)
  }
}

/**
 * The one way the web reads runs: lists the sidecar's recent jobs, reconciles the store's active
 * run, and adopts the jobs it does not know (started by the CLI, say), so history, status and
 * the single-active rule all see every run. Never throws because the sidecar is unreachable: the
 * active run then keeps its lease. Returns the active run as it stands afterwards.
 */
export async function syncFromSidecar(deps: ReconcileDeps): Promise<Run | null> {
  const listing = await listRecentJobs(deps)
  // The active run first: once it has ended, an active job from elsewhere can take its place.
  const active = await deps.store.getActiveRun()
  if (active) await reconcileRun(active, deps, listing)
  if (listing.ok) {
    // Oldest first, so the newest job (the one that may still be active) is adopted last.
    for (const job of [...listing.jobs].reverse()) await syncJob(deps, job, listing)
  }
  return deps.store.getActiveRun()
}

/**
 * A run by the id the page shows, or by its sidecar job's id (what `owlat history` lists): one id
 * works everywhere. New runs have one id for both (the updater takes the run's id for its job).
 */
export async function findRun(store: SystemStore, id: string): Promise<Run | null> {
  return await store.getRun(id) ?? await store.getRunByJobId(id)
}

/** Why a dispatch failed, in words for the run's reason and the caller's answer. */
export function dispatchFailureReason(err: unknown): string {
  if (err instanceof SidecarRejectedError) return `the updater refused the job: ${err.message}`
  if (err instanceof SidecarUnreachableError) return err.message
  return `dispatch failed: ${err instanceof Error ? err.message : String(err)}`
}

/** The job could not be handed over; the run is closed as failed with `reason`. */
export class DispatchFailedError extends Error {
  constructor(readonly runId: string, readonly reason: string, readonly error: unknown) {
    super(reason)
    this.name = 'DispatchFailedError'
  }
}

/**
 * Hands an open run's job to the sidecar and attaches the job's id. A request that got no answer
 * (unreachable, timed out) may still have been accepted, so before the run is closed as failed
 * the sidecar's recent jobs are searched for one carrying the run's id, which is attached if
 * found. Otherwise closes the run and throws `DispatchFailedError`.
 */
export async function dispatchRun(run: Run, request: Omit<JobRequest, 'runId'>, deps: ReconcileDeps): Promise<Run> {
  let jobId: string
  try {
    ({ jobId } = await deps.sidecar.createJob({ ...request, runId: run.id }))
  }
  catch (err) {
    if (err instanceof SidecarUnreachableError) {
      const listing = await listRecentJobs(deps)
      const accepted = listing.ok ? listing.jobs.find(j => j.runId === run.id) : undefined
      if (accepted) return attachAccepted(deps, run, accepted)
    }
    const reason = dispatchFailureReason(err)
    // Close the run now rather than leave it for reconciliation to time out.
    await fail(deps, run, reason)
    throw new DispatchFailedError(run.id, reason, err)
  }
  const attached = await deps.store.attachJob(run.id, jobId)
  await tell(deps, attached)
  return attached
}
