/**
 * Runs jobs: `JOB_STEPS` through the driver, every step journaled before and after it runs;
 * on a failure after `promote`, `restore` + `verify-restore`. At startup it settles whatever
 * a previous sidecar left queued or running, so no job stays active forever.
 */
import { JOB_STEPS, PROMOTE_INDEX, type StepName } from '../shared/steps'
import type { RunStatus } from '../shared/run-state'
import type { Job } from '../shared/schemas/job'
import type { Driver, StepContext } from './drivers/types'
import type { Journal } from './journal'

const RECREATE_INDEX = JOB_STEPS.indexOf('recreate')
const RESTART_NOTE = 'after an updater restart'
export const INTERRUPTED_BEFORE_CHANGE = 'interrupted by an updater restart before anything changed'

/** What to do with a job a previous sidecar left queued or running. */
export type ResumePlan
  = | { action: 'fail', reason: string }
    | { action: 'succeed' }
    | { action: 'restore', failure: string }
    | { action: 'continue', fromIndex: number }

/** Decides from the journaled steps alone; pure, so the rules are unit-testable. */
export function planResume(job: Job): ResumePlan {
  const status = (name: StepName) => job.steps.find(s => s.name === name)?.status ?? 'pending'
  if (status('promote') === 'pending') return { action: 'fail', reason: INTERRUPTED_BEFORE_CHANGE }
  if (status('commit') === 'succeeded') return { action: 'succeed' }
  const changing: readonly StepName[] = JOB_STEPS.slice(PROMOTE_INDEX)
  const failed = job.steps.find(s => changing.includes(s.name) && s.status === 'failed')
  const failure = failed ? `${failed.name} failed: ${failed.error ?? 'unknown error'}` : null
  if (status('restore') !== 'pending') return { action: 'restore', failure: failure ?? 'the job was interrupted' }
  if (failure) return { action: 'restore', failure }
  // A promote that was cut short runs again (it detects what it already did); a finished one does not.
  return { action: 'continue', fromIndex: status('promote') === 'succeeded' ? RECREATE_INDEX : PROMOTE_INDEX }
}

/** Returned by a step cut short by shutdown: nothing more is journaled, a restart resumes the job. */
const ABORTED = Symbol('aborted')

export interface RunnerOptions {
  journal: Journal
  driver: Driver
  log: (line: string) => void
}

export class Runner {
  private readonly abort = new AbortController()
  private work: Promise<void> = Promise.resolve()

  constructor(private readonly opts: RunnerOptions) {}

  /** Starts a queued job in the background. */
  submit(job: Job): void {
    this.enqueue(job.id, () => this.execute(job, 0, null))
  }

  /** Settles every job left active by a previous sidecar; resumable ones run in the background. */
  resumeInterrupted(): void {
    const { journal } = this.opts
    for (const job of journal.activeJobs()) {
      const plan = planResume(job)
      this.opts.log(`job ${job.id} (${job.kind} ${job.fromVersion} → ${job.toVersion}) was interrupted by a restart: ${plan.action}`)
      if (plan.action === 'fail') {
        this.closeInterruptedSteps(job)
        journal.setJobStatus(job.id, 'failed', plan.reason)
      }
      else if (plan.action === 'succeed') {
        this.closeInterruptedSteps(job)
        journal.setJobStatus(job.id, 'succeeded', `committed ${RESTART_NOTE}`)
      }
      else if (plan.action === 'restore') {
        this.enqueue(job.id, () => this.restorePath(job, plan.failure, RESTART_NOTE, true))
      }
      else {
        this.enqueue(job.id, () => this.execute(job, plan.fromIndex, RESTART_NOTE))
      }
    }
  }

  /** Resolves once every job handed to this runner so far has settled (or stopped for shutdown). */
  idle(): Promise<void> {
    return this.work
  }

  /** Stops between steps (or inside an abortable wait) and resolves once nothing runs. */
  async close(): Promise<void> {
    this.abort.abort()
    await this.work
  }

  private enqueue(jobId: string, run: () => Promise<void>): void {
    this.work = this.work.then(run).catch((err: Error) => {
      // Only the journal itself can fail here (every step error is handled); say so loudly.
      this.opts.log(`job ${jobId}: internal error: ${err.stack ?? err.message}`)
    })
  }

  private async execute(job: Job, fromIndex: number, note: string | null): Promise<void> {
    if (this.abort.signal.aborted) return
    if (job.status === 'queued') this.opts.journal.setJobStatus(job.id, 'running')
    for (let i = fromIndex; i < JOB_STEPS.length; i++) {
      const name = JOB_STEPS[i]!
      const firstLine = note && i === fromIndex ? `resumed ${note}` : null
      const error = await this.runStep(job, name, firstLine, ctx => this.perform(name, ctx, job))
      if (error === ABORTED) return
      if (error !== null) {
        if (i < PROMOTE_INDEX) return this.finish(job, 'failed', `${name} failed: ${error}; nothing was changed`, note)
        return this.restorePath(job, `${name} failed: ${error}`, note, false)
      }
    }
    this.finish(job, 'succeeded', note ? `completed ${note}` : null, null)
  }

  private async restorePath(job: Job, failure: string, note: string | null, resumedHere: boolean): Promise<void> {
    const firstLine = note && resumedHere ? `resumed ${note}` : null
    const restoreError = await this.runStep(job, 'restore', firstLine, ctx => this.opts.driver.restore(ctx))
    if (restoreError === ABORTED) return
    if (restoreError !== null) return this.finish(job, 'failed', `${failure}; restore failed: ${restoreError}`, note)
    const verifyError = await this.runStep(job, 'verify-restore', null, ctx => this.opts.driver.verify(ctx, job.fromVersion))
    if (verifyError === ABORTED) return
    if (verifyError !== null) return this.finish(job, 'failed', `${failure}; restore failed: verify-restore failed: ${verifyError}`, note)
    this.finish(job, 'rolled_back', `${failure}; restored ${job.fromVersion}`, note)
  }

  private perform(name: typeof JOB_STEPS[number], ctx: StepContext, job: Job): Promise<void> {
    const { driver } = this.opts
    switch (name) {
      case 'preflight': return driver.preflight(ctx)
      case 'backup': return driver.backup(ctx)
      case 'stage': return driver.stage(ctx)
      case 'pull': return driver.pull(ctx)
      case 'deploy-functions': return driver.deployFunctions(ctx)
      case 'promote': return driver.promote(ctx)
      case 'recreate': return driver.recreate(ctx)
      case 'verify': return driver.verify(ctx, job.toVersion)
      case 'commit': return this.commit(ctx, job)
    }
  }

  private async commit(ctx: StepContext, job: Job): Promise<void> {
    this.opts.journal.setInstalledVersion(job.toVersion)
    ctx.log(`installed version is now ${job.toVersion} (was ${job.fromVersion})`)
  }

  /** Journals the step around `run`; returns null on success, the error text on failure. */
  private async runStep(job: Job, name: StepName, firstLine: string | null, run: (ctx: StepContext) => Promise<void>): Promise<string | null | typeof ABORTED> {
    const { journal } = this.opts
    if (this.abort.signal.aborted) return ABORTED
    journal.startStep(job.id, name)
    const input = journal.jobInput(job.id)
    let skipped: string | null = null
    const ctx: StepContext = {
      jobId: job.id,
      kind: job.kind,
      fromVersion: job.fromVersion,
      toVersion: job.toVersion,
      compose: input.compose,
      force: input.force,
      backup: input.backup,
      restoreBackupJobId: input.restoreBackupJobId,
      recordBackup: backup => journal.setJobBackup(job.id, backup),
      signal: this.abort.signal,
      log: line => journal.appendLog(job.id, name, line),
      skip: (reason) => {
        skipped = reason
        journal.appendLog(job.id, name, reason)
      },
    }
    if (firstLine) ctx.log(firstLine)
    try {
      await run(ctx)
      journal.finishStep(job.id, name, skipped === null ? 'succeeded' : 'skipped')
      return null
    }
    catch (err) {
      if (this.abort.signal.aborted) return ABORTED
      const message = (err as Error).message || String(err)
      journal.finishStep(job.id, name, 'failed', message)
      this.opts.log(`job ${job.id}: ${name} failed: ${message}`)
      return message
    }
  }

  private finish(job: Job, status: RunStatus, reason: string | null, note: string | null): void {
    const full = reason && note ? `${reason} (${note})` : reason
    this.opts.journal.setJobStatus(job.id, status, full)
    this.opts.log(`job ${job.id} (${job.kind} ${job.fromVersion} → ${job.toVersion}): ${status}${full ? `: ${full}` : ''}`)
  }

  /** A step a dead sidecar left "running" will not run again: record that it was cut short. */
  private closeInterruptedSteps(job: Job): void {
    for (const step of job.steps) {
      if (step.status === 'running') this.opts.journal.finishStep(job.id, step.name, 'failed', 'interrupted by an updater restart')
    }
  }
}
