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

export const ALL_STEPS = [...JOB_STEPS, ...RESTORE_STEPS] as const
export type StepName = (typeof ALL_STEPS)[number]

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
}

/** Steps that wait for the stack to answer healthy, at most `OWLAT_VERIFY_TIMEOUT_MS`. */
export const VERIFY_STEPS: readonly StepName[] = ['verify', 'verify-restore']

/**
 * The step that keeps sampling the new version for `OWLAT_WATCH_MS` after `verify`: the page
 * and the CLI count it down ("watching, 12 s of 60 s").
 */
export const WATCH_STEP: StepName = 'watch'

/** Index of `promote`: a failure at or after it needs a restore; before it nothing changed. */
export const PROMOTE_INDEX = JOB_STEPS.indexOf('promote')

/** Bound on the log lines kept per step (journal, store and payloads). */
export const STEP_LOG_LIMIT = 200
