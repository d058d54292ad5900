/**
 * What a rehearsal (kind `rehearsal`: the target on a throwaway copy of the data) tells about the
 * real update: how long each step took, the downtime the real update should expect (the copy's
 * `recreate` + `verify`, the stretch in which the real web would not answer), and which releases
 * it found wanting. One reading for the page, the API and the CLI. Browser-safe.
 */
import { hopOf } from './hops'
import { isTerminalStatus, type RunStatus } from './run-state'
import { stepLabel, type StepName } from './steps'

interface ReportStep { name: StepName, status: string, startedAt: number | null, endedAt: number | null, hop?: number }
interface ReportRun { id: string, kind: string, toVersion: string, status: RunStatus, startedAt: number, endedAt: number | null, steps: readonly ReportStep[] }

/** The steps whose time the real update spends with its web not answering. */
export const DOWNTIME_STEPS: readonly StepName[] = ['recreate', 'verify']

export interface RehearsalTiming {
  name: StepName
  label: string
  hop: number
  status: string
  /** Null for a step that did not run to an end. */
  durationMs: number | null
}

export interface RehearsalFigures {
  steps: RehearsalTiming[]
  /** The whole rehearsal, null while it runs. */
  totalMs: number | null
  /**
   * The real update's expected downtime: every hop's `recreate` + `verify` on the copy. Null when
   * the rehearsal did not get through `verify` (it measured no complete restart).
   */
  expectedDowntimeMs: number | null
}

export function rehearsalFigures(run: ReportRun): RehearsalFigures {
  const steps = run.steps.map(step => ({
    name: step.name,
    label: stepLabel(step.name, 'rehearsal'),
    hop: hopOf(step),
    status: step.status,
    durationMs: step.startedAt !== null && step.endedAt !== null ? Math.max(0, step.endedAt - step.startedAt) : null,
  }))
  const downtime = steps.filter(step => DOWNTIME_STEPS.includes(step.name) && step.status !== 'pending' && step.status !== 'skipped')
  const measured = downtime.length > 0 && downtime.every(step => step.status === 'succeeded' && step.durationMs !== null)
  return {
    steps,
    totalMs: run.endedAt !== null ? Math.max(0, run.endedAt - run.startedAt) : null,
    expectedDowntimeMs: measured ? downtime.reduce((sum, step) => sum + step.durationMs!, 0) : null,
  }
}

/** The newest finished rehearsal of `version`, from runs in any order. */
export function latestRehearsal<R extends ReportRun>(runs: readonly R[], version: string): R | null {
  let latest: R | null = null
  for (const run of runs) {
    if (run.kind !== 'rehearsal' || run.toVersion !== version || !isTerminalStatus(run.status)) continue
    if (!latest || (run.endedAt ?? run.startedAt) > (latest.endedAt ?? latest.startedAt)) latest = run
  }
  return latest
}

/**
 * A release whose latest rehearsal failed: the update dialog warns against it, with a link to
 * that rehearsal's report, until a newer rehearsal of it succeeds. Null when it has none or the
 * latest passed.
 */
export function failedRehearsal<R extends ReportRun>(runs: readonly R[], version: string): R | null {
  const latest = latestRehearsal(runs, version)
  return latest && latest.status !== 'succeeded' ? latest : null
}

/** Whether a run is a rehearsal: it ran on a copy, so it says nothing of what runs here. */
export function isRehearsal(run: { kind: string }): boolean {
  return run.kind === 'rehearsal'
}

/**
 * A rehearsal in one line, as the banner, the version card, the run page and the dialog say it:
 * "Rehearsing 1.3.0 on a copy of the data" while it runs, "Rehearsal of 1.3.0 passed" or
 * "Rehearsal of 1.3.0 failed" once it ended (never "installed" or "rolled back": it does neither).
 */
export function rehearsalHeadline(run: { toVersion: string, status: RunStatus }): string {
  if (!isTerminalStatus(run.status)) return `Rehearsing ${run.toVersion} on a copy of the data`
  return `Rehearsal of ${run.toVersion} ${run.status === 'succeeded' ? 'passed' : 'failed'}`
}
