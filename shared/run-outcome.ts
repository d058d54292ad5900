/**
 * What a run that did not succeed means for the admin, in one shape the page and the CLI both
 * show: the cause (the step that failed and its error), the failing service's own last lines (a
 * failed verify keeps them in its step log), what was restored, and one line of what to do now.
 * Derived from the run's steps alone, so it is the same for a web run and a sidecar job.
 * Browser-safe.
 */
import { currentHop, hopLabel, hopTo, restoredVersion, stepsOfHop } from './hops'
import type { RunKind, RunStatus } from './run-state'
import { parseOutputLine, type ServiceOutputLine } from './service-output'
import { isRehearsal } from './rehearsal'
import { JOB_STEPS, PROMOTE_INDEX, stepLabel, type StepName } from './steps'

interface StepLike {
  name: StepName
  status: string
  error: string | null
  log: string[]
  hop?: number
}

export interface RunLike {
  kind: RunKind
  fromVersion: string
  toVersion: string
  path?: string[] | null
  status: RunStatus
  reason: string | null
  steps: StepLike[]
}

export interface RunOutcome {
  /** The step that failed first, null when none did (a dispatch that never completed, a lost job). */
  failedStep: StepName | null
  /** What went wrong: the failing step and its error, else the run's reason. */
  cause: string
  /** The failing service's last lines, oldest first (those of the first step that kept any). */
  output: ServiceOutputLine[]
  /** What runs now, in words ("1.3.0 was restored and answers healthy"); null when nothing was changed or it is unknown. */
  restored: string | null
  /** Whether the stack was changed before the failure (promote ran). */
  changed: boolean
  /** One line: what to do now. */
  nextStep: string
}

const BEFORE_PROMOTE: readonly StepName[] = JOB_STEPS.slice(0, PROMOTE_INDEX)

/** What to fix when a step before `promote` stopped the run; nothing was changed then. */
const FIX_BEFORE_CHANGE: Partial<Record<StepName, string>> = {
  'preflight': 'fix what the preflight check reports (owlat status shows the services)',
  'backup': 'free disk space or fix the backup error above',
  'stage': 'check that the updater can write its project folder',
  'pull': 'check that this host reaches the image registry (docker compose pull)',
  'deploy-functions': 'check that the Convex backend runs (docker compose ps convex)',
}

function stepOutcome(step: StepLike | undefined): 'ok' | 'failed' | 'none' {
  if (!step || step.status === 'pending') return 'none'
  return step.status === 'succeeded' || step.status === 'skipped' ? 'ok' : step.status === 'failed' ? 'failed' : 'none'
}

/** The service output a step kept, oldest first. */
export function stepOutput(step: { log: string[] }): ServiceOutputLine[] {
  return step.log.map(parseOutputLine).filter((line): line is ServiceOutputLine => line !== null)
}

/** What to fix when a rehearsal's step before the new version started failed (nothing of the release was judged yet). */
const FIX_BEFORE_REHEARSAL: Partial<Record<StepName, string>> = {
  preflight: 'fix what the preflight check reports (free disk space for the copy, owlat status for the services)',
  backup: 'free disk space for the copy of the data or fix the error above',
  stage: 'check that the updater can write its data folder',
  pull: 'check that this host reaches the image registry (docker compose pull)',
}

/** What to do after a failed rehearsal: production is as it was; the copy may need removing by hand. */
function rehearsalNextStep(run: RunLike, failed: StepLike | null, teardown: StepLike | undefined): string {
  const copy = teardown?.status === 'failed'
    ? 'the rehearsal\'s copy could not be removed (its teardown step says what is left)'
    : 'the copy of the data was thrown away'
  const untouched = `Nothing in production was changed and ${copy}.`
  if (failed?.name === 'teardown') return `${untouched} The release itself passed on the copy: remove what the rehearsal left behind by hand, then update.`
  const fix = failed ? FIX_BEFORE_REHEARSAL[failed.name] : 'check that the updater runs (owlat doctor)'
  if (fix) return `${untouched} ${fix.charAt(0).toUpperCase()}${fix.slice(1)}, then rehearse again.`
  return `${untouched} Do not update to ${run.toVersion} until the cause above is fixed or a fixed release is out, then rehearse it again.`
}

/** The cause, the output, what was restored and what to do next; null while running or after a success. */
export function runOutcome(run: RunLike): RunOutcome | null {
  if (run.status !== 'failed' && run.status !== 'rolled_back') return null
  // A run through required stops failed in its last hop that ran; the hops before it committed.
  const hop = currentHop(run)
  const steps = stepsOfHop(run.steps, hop)
  const byName = (name: StepName) => steps.find(s => s.name === name)
  const failed = steps.find(s => s.status === 'failed' && s.name !== 'restore' && s.name !== 'verify-restore')
    ?? steps.find(s => s.status === 'failed')
    ?? null
  const where = hopLabel(run, hop)
  const cause = failed ? `${where ? `In ${where}: ` : ''}${stepLabel(failed.name, run.kind)} failed: ${failed.error ?? 'no error recorded'}` : run.reason ?? 'No reason was recorded.'
  const output = steps.map(stepOutput).find(lines => lines.length > 0) ?? []
  // A rehearsal ran on a copy: production was never changed, so nothing was restored either.
  if (isRehearsal(run)) return { failedStep: failed?.name ?? null, cause, output, restored: null, changed: false, nextStep: rehearsalNextStep(run, failed, byName('teardown')) }
  const changed = steps.some(s => !BEFORE_PROMOTE.includes(s.name) && s.status !== 'pending')
  const back = restoredVersion(run)

  const restore = stepOutcome(byName('restore'))
  const verifyRestore = stepOutcome(byName('verify-restore'))
  let restored: string | null = null
  if (run.status === 'rolled_back') restored = `${back} was restored and answers healthy`
  else if (restore === 'failed') restored = `restoring ${back} failed`
  else if (restore === 'ok' && verifyRestore === 'failed') restored = `${back} was put back but did not come up healthy`
  else if (hop > 0 && !changed) restored = `${back}, which the hop before committed, still runs`

  const what = run.kind === 'rollback' ? 'roll back' : run.kind === 'restore' ? 'restore' : 'update'
  let nextStep: string
  if (run.status === 'rolled_back') {
    nextStep = `Nothing else is needed now: ${back} runs again. Skip ${hopTo(run, hop)} until a fixed release is out, and send its output above to the release's maintainers.`
  }
  else if (changed) {
    nextStep = `The stack may be down: check it with owlat status and owlat logs web, and put ${back} back by hand as the README's "Recovery by hand" shows.`
  }
  else if (failed) {
    const fix = FIX_BEFORE_CHANGE[failed.name] ?? 'fix the error above'
    nextStep = `Nothing was changed: ${fix}, then start the ${what} again.`
  }
  else {
    nextStep = `Nothing was changed: check that the updater runs (owlat doctor), then start the ${what} again.`
  }
  return { failedStep: failed?.name ?? null, cause, output, restored, changed, nextStep }
}
