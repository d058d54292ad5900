/** Step names of a sidecar job, in execution order (DESIGN.md). */
export const JOB_STEPS = [
  'preflight',
  'backup',
  'stage',
  'pull',
  'deploy-functions',
  'promote',
  'recreate',
  'verify',
  'watch',
  'commit',
] as const

/** Steps that only run when something failed after `promote`. */
export const RESTORE_STEPS = ['restore', 'verify-restore'] as const

/**
 * A rehearsal's steps (kind `rehearsal`): the target on a throwaway copy of the data, verified
 * and watched like an update, then torn down whatever happened. It never promotes or commits,
 * so the running stack is never touched. `teardown` also runs after any failure.
 */
export const REHEARSAL_STEPS = [
  'preflight',
  'backup',
  'stage',
  'pull',
  'deploy-functions',
  'recreate',
  'verify',
  'watch',
  'teardown',
] as const

export const ALL_STEPS = [...JOB_STEPS, ...RESTORE_STEPS, 'teardown'] as const
export type StepName = (typeof ALL_STEPS)[number]

/** The steps a job of `kind` runs in each hop, in order. */
export function stepsOfKind(kind: string): readonly StepName[] {
  return kind === 'rehearsal' ? REHEARSAL_STEPS : JOB_STEPS
}

export const STEP_STATUSES = ['pending', 'running', 'succeeded', 'failed', 'skipped'] as const
export type StepStatus = (typeof STEP_STATUSES)[number]

/** Human labels for the page and the CLI. */
export const STEP_LABELS: Record<StepName, string> = {
  'preflight': 'Preflight checks',
  'backup': 'Back up data',
  'stage': 'Stage new compose file',
  'pull': 'Pull images',
  'deploy-functions': 'Deploy Convex functions',
  'promote': 'Promote compose file',
  'recreate': 'Recreate services',
  'verify': 'Verify new version',
  'watch': 'Watch new version',
  'commit': 'Commit',
  'restore': 'Restore previous version',
  'verify-restore': 'Verify restored version',
  'teardown': 'Tear down the rehearsal',
}

/** Where a rehearsal's step does something else than the update's step of the same name. */
const REHEARSAL_LABELS: Partial<Record<StepName, string>> = {
  'backup': 'Copy the data',
  'stage': 'Stage the throwaway stack',
  'deploy-functions': 'Deploy Convex functions to the copy',
  'recreate': 'Start the new version on the copy',
  'verify': 'Verify the new version on the copy',
  'watch': 'Watch the new version on the copy',
}

/** A step's label in a run of `kind` (a rehearsal's steps work on the copy). */
export function stepLabel(name: StepName, kind?: string): string {
  return (kind === 'rehearsal' ? REHEARSAL_LABELS[name] : undefined) ?? STEP_LABELS[name]
}

/**
 * What the stack is doing while a step runs, for "installing 1.4.0 (verifying, 23 s of 60 s)"
 * on the page and in the CLI.
 */
export const STEP_ACTIVITY: Record<StepName, string> = {
  'preflight': 'checking the stack',
  'backup': 'backing up data',
  'stage': 'staging the compose file',
  'pull': 'pulling images',
  'deploy-functions': 'deploying Convex functions',
  'promote': 'promoting the compose file',
  'recreate': 'restarting services',
  'verify': 'verifying',
  'watch': 'watching',
  'commit': 'committing',
  'restore': 'restoring the previous version',
  'verify-restore': 'verifying the restored version',
  'teardown': 'tearing down the rehearsal',
}

/** Steps that wait for the stack to answer healthy, at most `OWLAT_VERIFY_TIMEOUT_MS`. */
export const VERIFY_STEPS: readonly StepName[] = ['verify', 'verify-restore']

/**
 * The step that keeps sampling the new version for `OWLAT_WATCH_MS` after `verify`: the page
 * and the CLI count it down ("watching, 12 s of 60 s").
 */
export const WATCH_STEP: StepName = 'watch'

/**
 * Steps during which the web is replaced and comes back (the new one, or the restored one):
 * whoever follows a run (the web's reconciler, the page) asks more often then, so the page
 * reloads within moments of the new web answering, and stays at an easy pace otherwise.
 */
export const WEB_CHANGING_STEPS: readonly StepName[] = ['recreate', 'verify', 'restore', 'verify-restore']

/** Index of `promote`: a failure at or after it needs a restore; before it nothing changed. */
export const PROMOTE_INDEX = JOB_STEPS.indexOf('promote')

/** Bound on the log lines kept per step (journal, store and payloads). */
export const STEP_LOG_LIMIT = 200
