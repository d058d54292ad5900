/**
 * The hops of a run through required upgrade stops (shared/upgrade-path.ts): one hop per version
 * of its `path`, each with its own steps (`step.hop`), verified, watched and committed before the
 * next begins. A run of one hop has no `path` and steps without `hop`. One reading for every
 * process: the updater's runner, the page, the history and the CLI. Browser-safe.
 */
import type { StepName } from './steps'

interface HopStep { name: StepName | string, status: string, hop?: number }
interface HopRun { fromVersion: string, toVersion: string, path?: readonly string[] | null, steps: readonly HopStep[] }

/** The versions the run installs, in order, ending with its target. */
export function runPath(run: Pick<HopRun, 'toVersion' | 'path'>): string[] {
  return run.path && run.path.length > 0 ? [...run.path] : [run.toVersion]
}

/** Whether the run goes through required upgrade stops. */
export function isMultiHop(run: Pick<HopRun, 'toVersion' | 'path'>): boolean {
  return runPath(run).length > 1
}

export function hopOf(step: Pick<HopStep, 'hop'>): number {
  return step.hop ?? 0
}

/** The steps of one hop, in their order. */
export function stepsOfHop<S extends HopStep>(steps: readonly S[], hop: number): S[] {
  return steps.filter(step => hopOf(step) === hop)
}

/** The version hop `hop` starts from: the run's own for the first, the hop before's otherwise. */
export function hopFrom(run: Pick<HopRun, 'fromVersion' | 'toVersion' | 'path'>, hop: number): string {
  return hop === 0 ? run.fromVersion : runPath(run)[hop - 1]!
}

/** The version hop `hop` installs. */
export function hopTo(run: Pick<HopRun, 'toVersion' | 'path'>, hop: number): string {
  return runPath(run)[hop] ?? run.toVersion
}

/** "hop 2 of 3 (1.3.0 → 1.3.1)"; null for a run of one hop, which needs no such words. */
export function hopLabel(run: Pick<HopRun, 'fromVersion' | 'toVersion' | 'path'>, hop: number): string | null {
  const path = runPath(run)
  return path.length > 1 ? `hop ${hop + 1} of ${path.length} (${hopFrom(run, hop)} → ${hopTo(run, hop)})` : null
}

/** The hop the run is on: the last one with a step that left `pending`. */
export function currentHop(run: Pick<HopRun, 'steps'>): number {
  let hop = 0
  for (const step of run.steps) if (step.status !== 'pending' && hopOf(step) > hop) hop = hopOf(step)
  return hop
}

/** The versions the run committed, in order (a hop commits before the next begins). */
export function committedVersions(run: HopRun): string[] {
  const path = runPath(run)
  return path.filter((_, hop) => run.steps.some(s => s.name === 'commit' && hopOf(s) === hop && s.status === 'succeeded'))
}

/**
 * Where a run of several hops left the stack when it did not reach its target: the version the
 * last committed hop installed, or null when none committed (the stack is where it started).
 */
export function landedVersion(run: HopRun): string | null {
  return committedVersions(run).at(-1) ?? null
}

/**
 * The version a run that did not reach its target put back or left running: the one its failing
 * hop started from (the run's own for the first hop, the one the hop before committed otherwise).
 */
export function restoredVersion(run: Pick<HopRun, 'fromVersion' | 'toVersion' | 'path' | 'steps'>): string {
  return hopFrom(run, currentHop(run))
}
