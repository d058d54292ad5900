/**
 * Reconciliation: a run the store still calls active is brought in line with the sidecar's
 * journal, or ended as failed with a reason. Nothing stays active forever. Framework-independent.
 */
import { canTransition, isActiveStatus, type RunStatus } from '../../shared/run-state'
import type { Run } from '../../shared/schemas/api'
import type { Job } from '../../shared/schemas/job'
import { SidecarRejectedError, type SidecarClient } from './sidecar'
import type { RunPatch, SystemStore } from './store/types'

/** A run without a job this long after it opened lost its dispatch (the web died mid-request). */
export const DISPATCH_GRACE_MS = 60_000

export interface ReconcileDeps {
  store: SystemStore
  sidecar: SidecarClient
  /** How long a run may go without hearing from the sidecar (`config.runLeaseMs`). */
  leaseMs: number
  now?: () => number
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

export async function reconcileRun(run: Run, deps: ReconcileDeps): Promise<Run> {
  if (!isActiveStatus(run.status)) return run
  const now = (deps.now ?? Date.now)()
  if (!run.jobId) {
    return now - run.startedAt > DISPATCH_GRACE_MS ? fail(deps, run, 'dispatch never completed') : run
  }
  let job: Job
  try {
    job = await deps.sidecar.getJob(run.jobId)
  }
  catch (err) {
    if (err instanceof SidecarRejectedError && err.status === 404) {
      return fail(deps, run, `the updater has no record of job ${run.jobId}`)
    }
    // Unreachable (or answering nonsense): the sidecar may be restarting; give it the lease.
    if (now - run.startedAt > deps.leaseMs) return fail(deps, run, 'updater unreachable; lease expired')
    return run
  }
  return syncFromJob(deps, run, job)
}

/** Reconciles the store's active run, if any; returns it as it stands afterwards. */
export async function reconcileActiveRun(deps: ReconcileDeps): Promise<Run | null> {
  const active = await deps.store.getActiveRun()
  return active ? reconcileRun(active, deps) : null
}
