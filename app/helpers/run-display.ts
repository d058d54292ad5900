import { isActiveStatus, RUN_STATUS_TEXT, type RunStatus } from '#layers/owlat-system/shared/run-state'
import { currentHop, hopTo, restoredVersion, stepsOfHop } from '#layers/owlat-system/shared/hops'
import type { Run } from '#layers/owlat-system/shared/schemas/api'
import { isRehearsal } from '#layers/owlat-system/shared/rehearsal'
import { STEP_ACTIVITY, VERIFY_STEPS, WATCH_STEP, type StepName } from '#layers/owlat-system/shared/steps'
import { formatElapsed } from './format'

type BadgeColor = 'primary' | 'success' | 'error' | 'warning' | 'neutral' | 'info'

/** "Rolled back", as a badge says it (the words are shared with the CLI). */
export const RUN_STATUS_LABELS = Object.fromEntries(
  Object.entries(RUN_STATUS_TEXT).map(([status, text]) => [status, text.charAt(0).toUpperCase() + text.slice(1)]),
) as Record<RunStatus, string>

export const RUN_STATUS_COLORS: Record<RunStatus, BadgeColor> = {
  queued: 'neutral',
  running: 'info',
  succeeded: 'success',
  rolled_back: 'warning',
  failed: 'error',
}

const REQUESTER_WORDS: Record<Run['requestedBy']['via'], { long: string, short: string }> = {
  web: { long: 'the system', short: 'system' },
  system: { long: 'the system', short: 'system' },
  cli: { long: 'the owlat CLI', short: 'CLI' },
  schedule: { long: 'the automatic update policy', short: 'schedule' },
}

/** Who asked for a run: the admin's email, else where it came from ("the owlat CLI"; `short` for tables: "CLI"). */
export function requesterOf(run: Pick<Run, 'requestedBy'>, short = false): string {
  const words = REQUESTER_WORDS[run.requestedBy.via] ?? REQUESTER_WORDS.system
  return run.requestedBy.email ?? (short ? words.short : words.long)
}

/** The id a run goes by everywhere (the page, the API, `owlat logs --job`): its job's, once it has one. */
export function runIdOf(run: Pick<Run, 'id' | 'jobId'>): string {
  return run.jobId ?? run.id
}

/** "Update 1.2.2 → 1.3.0", "Rehearsal 1.2.2 → 1.3.0 on a copy of the data" */
export function runTitle(run: Pick<Run, 'kind' | 'fromVersion' | 'toVersion'>): string {
  if (isRehearsal(run)) return `Rehearsal ${run.fromVersion} → ${run.toVersion} on a copy of the data`
  return `${run.kind === 'rollback' ? 'Rollback' : run.kind === 'restore' ? 'Restore' : 'Update'} ${run.fromVersion} → ${run.toVersion}`
}

/**
 * What a run in flight is doing, as the version card says it: "Installing 1.4.0 (verifying, 23 s
 * of 60 s)", "Rolling back to 1.2.2 (restarting services, 3 s)", "Rehearsing 1.3.0 on a copy of
 * the data (verifying, 3 s of 60 s)". Null once it ended.
 */
export function runActivity(run: Run, now: number, verifyTimeoutMs: number | null, watchMs: number | null = null): string | null {
  if (!isActiveStatus(run.status)) return null
  // Through required stops: the hop's own version, and where it leads ("Installing 1.3.0, on the way to 1.3.1").
  const hopVersion = hopTo(run, currentHop(run))
  const via = hopVersion !== run.toVersion ? `, on the way to ${run.toVersion}` : ''
  const what = run.kind === 'rollback'
    ? `Rolling back to ${run.toVersion}`
    : run.kind === 'restore'
      ? `Restoring a backup of ${run.toVersion}`
      : isRehearsal(run) ? `Rehearsing ${hopVersion}${via} on a copy of the data` : `Installing ${hopVersion}${via}`
  if (run.status === 'queued') return `${what} (queued)`
  const step = [...run.steps].reverse().find(s => s.status === 'running')
  if (!step || step.startedAt === null) return `${what} (starting)`
  const elapsed = formatElapsed(Math.max(0, now - step.startedAt))
  const window = VERIFY_STEPS.includes(step.name) ? verifyTimeoutMs : step.name === WATCH_STEP ? watchMs : null
  const limit = window ? ` of ${formatElapsed(window)}` : ''
  return `${what} (${STEP_ACTIVITY[step.name]}, ${elapsed}${limit})`
}

/**
 * How long each step usually takes on this instance: the median of its past successful runs'
 * steps that did something (skipped ones say nothing about time). Steps never seen are absent.
 * A rehearsal's steps (on a copy) are timed from rehearsals, an update's from the other runs.
 */
export function stepEstimates(runs: ReadonlyArray<Run>, exceptRunId: string | null, kind: Run['kind'] = 'update'): { byStep: Partial<Record<StepName, number>>, runs: number } {
  const samples = new Map<StepName, number[]>()
  let counted = 0
  for (const run of runs) {
    if (run.id === exceptRunId || run.status !== 'succeeded' || isRehearsal(run) !== (kind === 'rehearsal')) continue
    counted++
    for (const step of run.steps) {
      if (step.status !== 'succeeded' || step.startedAt === null || step.endedAt === null) continue
      samples.set(step.name, [...samples.get(step.name) ?? [], step.endedAt - step.startedAt])
    }
  }
  const byStep: Partial<Record<StepName, number>> = {}
  for (const [name, values] of samples) {
    const sorted = [...values].sort((a, b) => a - b)
    byStep[name] = sorted[Math.floor(sorted.length / 2)]!
  }
  return { byStep, runs: counted }
}

/**
 * The new version passed `verify` and runs while the watch window samples it: a run in flight whose
 * `verify` succeeded and that has not started restoring. Never a rehearsal's: its new version runs
 * on a copy, and the web that serves the page stays what it was.
 */
export function newVersionRuns(run: Pick<Run, 'kind' | 'status' | 'steps'>): boolean {
  if (!isActiveStatus(run.status) || isRehearsal(run)) return false
  const steps = stepsOfHop(run.steps, currentHop(run))
  const status = (name: StepName) => steps.find(s => s.name === name)?.status ?? 'pending'
  return status('verify') === 'succeeded' && status('restore') === 'pending'
}

/**
 * The version the web serves for the run as it stands, which the page should be on: the target
 * once it passed `verify` (in the watch window) or succeeded, the one restored once restored (for
 * a run through required stops, the version the hop before the failing one committed). Null while
 * nothing is settled (before verify, while restoring, after a failed restore).
 */
export function landingVersion(run: Pick<Run, 'kind' | 'status' | 'steps' | 'fromVersion' | 'toVersion' | 'path'>): string | null {
  // A rehearsal leaves the web as it was: nothing to land on, so the page never reloads for one.
  if (isRehearsal(run)) return null
  if (run.status === 'succeeded') return run.toVersion
  // Through required stops, only the last hop's version: the next hop restarts the web moments
  // after an earlier one passed verify, so a reload onto it could land on a stopped server.
  if (newVersionRuns(run) && hopTo(run, currentHop(run)) === run.toVersion) return run.toVersion
  if (run.status === 'rolled_back') return restoredVersion(run)
  return null
}

/** The watch window in progress: how long it runs and how much of it is left, or null outside it. */
export function watchCountdown(run: Pick<Run, 'status' | 'steps'>, now: number, watchMs: number | null): { windowMs: number, remainingMs: number } | null {
  if (!isActiveStatus(run.status) || watchMs === null) return null
  const step = run.steps.find(s => s.name === WATCH_STEP && s.status === 'running')
  if (step?.status !== 'running' || step.startedAt === null) return null
  return { windowMs: watchMs, remainingMs: Math.max(0, step.startedAt + watchMs - now) }
}
