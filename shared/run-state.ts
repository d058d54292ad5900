/**
 * The run/job state machine shared by the web store, the sidecar journal and the CLI.
 * queued → running → succeeded | rolled_back | failed; queued → failed.
 */
import type { NewRun, Run } from './schemas/api'
import type { Job } from './schemas/job'
import { WEB_CHANGING_STEPS } from './steps'
// A cycle (rehearsal.ts reads the statuses here) that only functions cross, called after load.
import { isRehearsal } from './rehearsal'

export const RUN_STATUSES = ['queued', 'running', 'succeeded', 'rolled_back', 'failed'] as const
export type RunStatus = (typeof RUN_STATUSES)[number]

/**
 * `restore`: `owlat restore FILE` put a backup archive back (the sidecar's jobs only; the web adopts them).
 * `rehearsal`: the target on a throwaway copy of the data; it never changes the running version.
 */
export const RUN_KINDS = ['update', 'rollback', 'restore', 'rehearsal'] as const
export type RunKind = (typeof RUN_KINDS)[number]

/** How a status reads in a sentence, on the page and in the CLI ("rolled back", not `rolled_back`). */
export const RUN_STATUS_TEXT: Record<RunStatus, string> = {
  queued: 'queued',
  running: 'running',
  succeeded: 'succeeded',
  rolled_back: 'rolled back',
  failed: 'failed',
}

export const ACTIVE_STATUSES: readonly RunStatus[] = ['queued', 'running']
export const TERMINAL_STATUSES: readonly RunStatus[] = ['succeeded', 'rolled_back', 'failed']

const TRANSITIONS: Record<RunStatus, readonly RunStatus[]> = {
  queued: ['running', 'failed'],
  running: ['succeeded', 'rolled_back', 'failed'],
  succeeded: [],
  rolled_back: [],
  failed: [],
}

export function isActiveStatus(status: RunStatus): boolean {
  return ACTIVE_STATUSES.includes(status)
}

export function isTerminalStatus(status: RunStatus): boolean {
  return TERMINAL_STATUSES.includes(status)
}

/**
 * An active run is replacing the web (a step of `WEB_CHANGING_STEPS` is running): the moment
 * followers poll fast, as the new web may answer at any time. A rehearsal never touches the web.
 */
export function isWebChanging(run: Pick<Run, 'kind' | 'status' | 'steps'>): boolean {
  return !isRehearsal(run) && isActiveStatus(run.status) && run.steps.some(s => s.status === 'running' && WEB_CHANGING_STEPS.includes(s.name))
}

export function canTransition(from: RunStatus, to: RunStatus): boolean {
  return from === to || TRANSITIONS[from].includes(to)
}

/** Throws when a store or journal tries an illegal move (e.g. reopening a finished run). */
export function assertTransition(from: RunStatus, to: RunStatus): void {
  if (!canTransition(from, to)) throw new Error(`illegal run transition ${from} → ${to}`)
}

/** A run as it is opened, before it has an id: queued, no job, no steps yet. */
export function queuedRun(request: NewRun, startedAt: number): Omit<Run, 'id'> {
  return { ...request, override: request.override ?? null, path: request.path ?? null, jobId: null, status: 'queued', reason: null, startedAt, endedAt: null, steps: [] }
}

/** The run that records a job the web did not dispatch (the CLI's), before it has an id. */
export function runOfJob(job: Job): Omit<Run, 'id'> {
  return {
    jobId: job.id,
    kind: job.kind,
    fromVersion: job.fromVersion,
    toVersion: job.toVersion,
    status: job.status,
    reason: job.reason,
    requestedBy: job.requestedBy,
    startedAt: job.startedAt ?? job.createdAt,
    endedAt: job.endedAt,
    steps: job.steps,
    override: job.override ?? null,
    path: job.path ?? null,
  }
}
