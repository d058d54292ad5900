/**
 * Runs jobs: `JOB_STEPS` through the driver, every step journaled before and after it runs;
 * on a failure after `promote`, `restore` + `verify-restore`. At startup it settles whatever
 * a previous sidecar left queued or running, so no job stays active forever.
 *
 * A journal that cannot be written (a full disk) ends the job safely instead of stranding it:
 * no further step that changes anything runs unrecorded, what was changed is restored, and every
 * write the journal refused is held in memory, in order, and written as soon as it takes writes
 * again, without a restart (`HeldWrites`).
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { currentHop, hopFrom, hopLabel, hopOf, hopTo, runPath, stepsOfHop } from '../shared/hops'
import { isTerminalStatus, type RunStatus } from '../shared/run-state'
import { JOB_STEPS, PROMOTE_INDEX, stepsOfKind, type StepName } from '../shared/steps'
import type { Job } from '../shared/schemas/job'
import type { Driver, StepContext, WatchSample } from './drivers/types'
import { formatSeconds } from './drivers/web-probe'
import { isStorageFailure, type Journal } from './journal'

const RECREATE_INDEX = JOB_STEPS.indexOf('recreate')
const RESTART_NOTE = 'after an updater restart'
export const REHEARSAL_PASSED = 'the new version ran on a copy of the data, passed verify and the watch window, and was torn down; the production stack was not touched'
export const INTERRUPTED_BEFORE_CHANGE = 'interrupted by an updater restart before anything changed'

/** What to do with a job a previous sidecar left queued or running (`hop`: which of its hops). */
export type ResumePlan
  = | { action: 'fail', reason: string }
    | { action: 'succeed' }
    | { action: 'restore', failure: string, hop: number }
    | { action: 'continue', fromIndex: number, hop: number }
    | { action: 'teardown', failure: string, hop: number }

/**
 * A rehearsal cut short is never continued: what it made is torn down and it fails, so nothing
 * of it outlives the restart. One that had already torn down after a clean run succeeded.
 */
function planRehearsalResume(job: Job, hop: number): ResumePlan {
  const last = runPath(job).length - 1
  const steps = stepsOfHop(job.steps, hop)
  const failed = job.steps.find(s => s.status === 'failed')
  const where = hopLabel(job, hop)
  if (!failed && hop === last && steps.find(s => s.name === 'teardown')?.status === 'succeeded') return { action: 'succeed' }
  const cut = steps.find(s => s.status === 'running')
  const failure = failed
    ? `${where ? `${where}: ` : ''}${failed.name} failed: ${failed.error ?? 'unknown error'}`
    : `${where ? `${where}: ` : ''}interrupted by an updater restart${cut ? ` during ${cut.name}` : ''}`
  return { action: 'teardown', failure, hop }
}

/** Decides from the journaled steps alone; pure, so the rules are unit-testable. */
export function planResume(job: Job): ResumePlan {
  const hop = currentHop(job)
  if (job.kind === 'rehearsal') return planRehearsalResume(job, hop)
  const last = runPath(job).length - 1
  const steps = stepsOfHop(job.steps, hop)
  const status = (name: StepName) => steps.find(s => s.name === name)?.status ?? 'pending'
  const where = hopLabel(job, hop)
  if (status('promote') === 'pending') {
    if (hop === 0) return { action: 'fail', reason: INTERRUPTED_BEFORE_CHANGE }
    return { action: 'fail', reason: `${where}: ${INTERRUPTED_BEFORE_CHANGE} in this hop; the stack runs ${hopFrom(job, hop)}, which the hop before committed` }
  }
  if (status('commit') === 'succeeded') return hop === last ? { action: 'succeed' } : { action: 'continue', fromIndex: 0, hop: hop + 1 }
  const changing: readonly StepName[] = JOB_STEPS.slice(PROMOTE_INDEX)
  const failed = steps.find(s => changing.includes(s.name) && s.status === 'failed')
  const failure = failed ? `${where ? `${where}: ` : ''}${failed.name} failed: ${failed.error ?? 'unknown error'}` : null
  if (status('restore') !== 'pending') return { action: 'restore', failure: failure ?? 'the job was interrupted', hop }
  if (failure) return { action: 'restore', failure, hop }
  // A promote that was cut short runs again (it detects what it already did); a finished one does not.
  return { action: 'continue', fromIndex: status('promote') === 'succeeded' ? RECREATE_INDEX : PROMOTE_INDEX, hop }
}

/** Returned by a step cut short by shutdown: nothing more is journaled, a restart resumes the job. */
const ABORTED = Symbol('aborted')

/** How often writes the journal refused are tried again. */
export const JOURNAL_RETRY_MS = 2000
/** Log lines held at most while the journal refuses writes; the state changes are always held. */
const MAX_HELD_LOG_LINES = 500
/** Steps that run even when the journal cannot record them: they put back what runs. */
const RUN_WITHOUT_JOURNAL: ReadonlySet<StepName> = new Set(['restore', 'verify-restore'])

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}

/**
 * Journal writes held in memory while the journal refuses them (a full disk, an I/O error), in
 * the order they happened: once one is held, every later one queues behind it. A timer writes
 * them as soon as the journal takes them again.
 */
export class HeldWrites {
  private readonly queue: Array<{ what: string, write: () => void, isLog: boolean }> = []
  private timer: NodeJS.Timeout | null = null
  private heldLines = 0
  private droppedLines = 0
  /** Why the journal last refused a write. */
  lastError: string | null = null

  constructor(private readonly log: (line: string) => void, private readonly retryMs = JOURNAL_RETRY_MS) {}

  /** Whether any write waits for the journal. */
  get holding(): boolean {
    return this.queue.length > 0
  }

  /**
   * Writes now, or holds the write when the journal refuses it for want of storage (or because
   * earlier writes wait). True when it landed. Any other error is a bug and is thrown.
   */
  write(what: string, write: () => void, opts: { isLog?: boolean } = {}): boolean {
    if (this.queue.length === 0) {
      try {
        write()
        return true
      }
      catch (err) {
        if (!isStorageFailure(err)) throw err
        this.lastError = messageOf(err)
        this.log(`the journal refused a write (${what}): ${this.lastError}; holding it and every later one in memory, retrying every ${this.retryMs / 1000} s`)
      }
    }
    if (opts.isLog) {
      if (this.heldLines >= MAX_HELD_LOG_LINES) {
        this.droppedLines++
        return false
      }
      this.heldLines++
    }
    this.queue.push({ what, write, isLog: opts.isLog === true })
    this.timer ??= setInterval(() => this.flush(), this.retryMs)
    return false
  }

  /** Writes what is held, in order, until the journal refuses again; true when nothing is left. */
  flush(): boolean {
    while (this.queue.length > 0) {
      const next = this.queue[0]!
      try {
        next.write()
      }
      catch (err) {
        if (isStorageFailure(err)) {
          this.lastError = messageOf(err)
          return false
        }
        // Not the storage: this write can never land. Dropping it lets the ones after it land.
        this.log(`a held journal write (${next.what}) cannot be recorded and is dropped: ${messageOf(err)}`)
      }
      this.queue.shift()
      if (next.isLog) this.heldLines--
    }
    if (this.timer) clearInterval(this.timer)
    this.timer = null
    const lost = this.droppedLines ? ` (${this.droppedLines} log lines beyond the ${MAX_HELD_LOG_LINES} held were lost)` : ''
    this.droppedLines = 0
    this.log(`the journal takes writes again: every held write is recorded${lost}`)
    return true
  }

  /** One last attempt at shutdown; what is still held is lost, and the journal resumes the job at the next start. */
  close(): void {
    if (!this.holding) return
    if (!this.flush()) this.log(`${this.queue.length} journal writes could not be recorded before shutdown (${this.lastError}); the next start resumes from what the journal holds`)
    if (this.timer) clearInterval(this.timer)
    this.timer = null
  }
}

/** Between two samples of the watch window. */
export const WATCH_SAMPLE_MS = 1000
/** How often the watch step counts down in its log (every sample would flood it). */
const WATCH_REPORT_MS = 5000

export interface RunnerOptions {
  journal: Journal
  driver: Driver
  log: (line: string) => void
  /** The watch window after `verify` (OWLAT_WATCH_MS). */
  watchMs: number
  /** Between two samples of the watch window (tests shorten it). */
  watchSampleMs?: number
  /** How often held journal writes are retried (tests shorten it). */
  journalRetryMs?: number
  /** The plan's checks, judged again at the start of `preflight` (sidecar/preflight-checks.ts); throws to refuse the job. */
  preflightChecks?: (ctx: StepContext, job: Job) => Promise<void>
}

export class Runner {
  private readonly abort = new AbortController()
  private work: Promise<void> = Promise.resolve()
  private readonly held: HeldWrites

  constructor(private readonly opts: RunnerOptions) {
    this.held = new HeldWrites(opts.log, opts.journalRetryMs)
  }

  /** Whether journal writes wait in memory for storage to come back. */
  get holdingJournalWrites(): boolean {
    return this.held.holding
  }

  /** Starts a queued job in the background. */
  submit(job: Job): void {
    this.enqueue(job.id, () => this.execute(job, 0, 0, null))
  }

  /** Settles every job left active by a previous sidecar; resumable ones run in the background. */
  resumeInterrupted(): void {
    const { journal } = this.opts
    for (const job of journal.activeJobs()) {
      const plan = planResume(job)
      this.opts.log(`job ${job.id} (${job.kind} ${job.fromVersion} → ${job.toVersion}) was interrupted by a restart: ${plan.action}`)
      if (plan.action === 'fail') {
        this.closeInterruptedSteps(job)
        this.record(`job ${job.id} failed`, () => journal.setJobStatus(job.id, 'failed', plan.reason))
      }
      else if (plan.action === 'succeed') {
        this.closeInterruptedSteps(job)
        const reason = job.kind === 'rehearsal' ? `${REHEARSAL_PASSED} (recorded ${RESTART_NOTE})` : `committed ${RESTART_NOTE}`
        this.record(`job ${job.id} succeeded`, () => journal.setJobStatus(job.id, 'succeeded', reason))
      }
      else if (plan.action === 'restore') {
        this.enqueue(job.id, () => this.restorePath(job, plan.hop, plan.failure, RESTART_NOTE, true))
      }
      else if (plan.action === 'teardown') {
        this.closeInterruptedSteps(job)
        this.enqueue(job.id, () => this.tearDown(job, plan.hop, plan.failure, RESTART_NOTE))
      }
      else {
        this.enqueue(job.id, () => this.execute(job, plan.hop, plan.fromIndex, RESTART_NOTE))
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
    this.held.close()
  }

  /** A journal write, held in memory when the journal refuses it for want of storage. */
  private record(what: string, write: () => void, opts: { isLog?: boolean } = {}): boolean {
    return this.held.write(what, write, opts)
  }

  private journalFailure(): string {
    return `the journal cannot be written (${this.held.lastError ?? 'storage failure'})`
  }

  private enqueue(jobId: string, run: () => Promise<void>): void {
    this.work = this.work.then(run).catch((err: Error) => {
      // Every step error and every storage failure is handled: this is a bug. Say so loudly, and
      // still end the job, so it is not left active with nothing running it.
      this.opts.log(`job ${jobId}: internal error: ${err.stack ?? err.message}`)
      this.record(`job ${jobId} failed`, () => {
        const job = this.opts.journal.getJob(jobId)
        if (job && !isTerminalStatus(job.status)) this.opts.journal.setJobStatus(jobId, 'failed', `internal error in the updater: ${err.message}`)
      })
    })
  }

  /** Runs the job's hops from `fromHop` (its step `fromIndex`), each committed before the next begins. */
  private async execute(job: Job, fromHop: number, fromIndex: number, note: string | null): Promise<void> {
    if (this.abort.signal.aborted) return
    if (job.status === 'queued') {
      const startedAt = Date.now()
      this.record(`job ${job.id} running`, () => this.opts.journal.setJobStatus(job.id, 'running', null, startedAt))
    }
    const hops = runPath(job).length
    const names = stepsOfKind(job.kind)
    const rehearsal = job.kind === 'rehearsal'
    for (let hop = fromHop; hop < hops; hop++) {
      const where = hopLabel(job, hop)
      const start = hop === fromHop ? fromIndex : 0
      for (let i = start; i < names.length; i++) {
        const name = names[i]!
        const firstLine = note && hop === fromHop && i === start ? `resumed ${note}` : i === 0 ? where : null
        const error = await this.runStep(job, hop, name, firstLine, ctx => rehearsal ? this.rehearse(name, ctx, job) : this.perform(name, ctx, job))
        if (error === ABORTED) return
        if (error === null) continue
        const failure = `${where ? `${where}: ` : ''}${name} failed: ${error}`
        // A rehearsal changed nothing that runs: it only has its own copy to remove.
        if (rehearsal) return name === 'teardown' ? this.finish(job, 'failed', `${failure}; the production stack was not touched`, note) : this.tearDown(job, hop, failure, note)
        if (i >= PROMOTE_INDEX) return this.restorePath(job, hop, failure, note, false)
        if (hop === 0) return this.finish(job, 'failed', `${failure}; nothing was changed`, note)
        return this.finish(job, 'failed', `${failure}; nothing of this hop was changed: the stack runs ${hopFrom(job, hop)}, which the hop before committed`, note)
      }
    }
    if (rehearsal) return this.finish(job, 'succeeded', REHEARSAL_PASSED, note)
    this.finish(job, 'succeeded', note ? `completed ${note}` : null, null)
  }

  /** Puts back the version hop `hop` started from: the run's own, or the one the hop before committed. */
  private async restorePath(job: Job, hop: number, failure: string, note: string | null, resumedHere: boolean): Promise<void> {
    const firstLine = note && resumedHere ? `resumed ${note}` : null
    const back = hopFrom(job, hop)
    const restoreError = await this.runStep(job, hop, 'restore', firstLine, ctx => this.opts.driver.restore(ctx))
    if (restoreError === ABORTED) return
    if (restoreError !== null) return this.finish(job, 'failed', `${failure}; restore failed: ${restoreError}`, note)
    const verifyError = await this.runStep(job, hop, 'verify-restore', null, ctx => this.opts.driver.verify(ctx, back))
    if (verifyError === ABORTED) return
    if (verifyError !== null) return this.finish(job, 'failed', `${failure}; restore failed: verify-restore failed: ${verifyError}`, note)
    // A commit may have recorded the target before the journal failed: what runs is the version restored.
    if (this.opts.journal.installedVersion() !== back) {
      this.record('installed version', () => this.opts.journal.setInstalledVersion(back))
    }
    const stands = hop > 0 ? `restored ${back}, which the hop before committed: the stack runs ${back}` : `restored ${back}`
    this.finish(job, 'rolled_back', `${failure}; ${stands}`, note)
  }

  /**
   * After a rehearsal step failed (or a restart cut it short): removes what the rehearsal made,
   * then fails the job with the first failure. The running stack was never touched.
   */
  private async tearDown(job: Job, hop: number, failure: string, note: string | null): Promise<void> {
    const error = await this.runStep(job, hop, 'teardown', note ? `resumed ${note}` : null, ctx => this.opts.driver.rehearsal.teardown(ctx))
    if (error === ABORTED) return
    const cleaned = error === null ? 'the rehearsal was torn down' : `teardown failed too: ${error}`
    this.finish(job, 'failed', `${failure}; ${cleaned}; the production stack was not touched`, note)
  }

  /** A rehearsal's step: the update's steps, done on the copy (DriverRehearsal), never promoting or committing. */
  private rehearse(name: StepName, ctx: StepContext, job: Job): Promise<void> {
    const { driver } = this.opts
    const { rehearsal } = driver
    const last = runPath(job).length - 1
    switch (name) {
      case 'preflight': return this.preflight(ctx, job, () => rehearsal.preflight(ctx))
      // One copy, made before the first hop: the later hops run on what the hop before left in it.
      case 'backup': return ctx.hop > 0 ? Promise.resolve(ctx.skip(`the copy made before hop 1 carries on`)) : rehearsal.copy(ctx)
      case 'stage': return rehearsal.stage(ctx)
      case 'pull': return driver.pull(ctx)
      case 'deploy-functions': return rehearsal.deployFunctions(ctx)
      case 'recreate': return rehearsal.start(ctx)
      case 'verify': return rehearsal.verify(ctx, ctx.toVersion)
      case 'watch': return this.watch(ctx, ctx.toVersion, () => rehearsal.sample(ctx, ctx.toVersion))
      case 'teardown': return ctx.hop < last ? Promise.resolve(ctx.skip(`the copy carries on to hop ${ctx.hop + 2}`)) : rehearsal.teardown(ctx)
      default: throw new Error(`a rehearsal has no step ${name}`)
    }
  }

  private perform(name: StepName, ctx: StepContext, job: Job): Promise<void> {
    const { driver } = this.opts
    switch (name) {
      case 'preflight': return this.preflight(ctx, job)
      // One backup, before the first hop changes anything: it holds the data the run started from.
      case 'backup': return ctx.hop > 0 ? Promise.resolve(ctx.skip(`the data was backed up before hop 1 (${job.fromVersion})`)) : driver.backup(ctx)
      case 'stage': return driver.stage(ctx)
      case 'pull': return driver.pull(ctx)
      case 'deploy-functions': return driver.deployFunctions(ctx)
      case 'promote': return driver.promote(ctx)
      case 'recreate': return driver.recreate(ctx)
      case 'verify': return driver.verify(ctx, ctx.toVersion)
      case 'watch': return this.watch(ctx, ctx.toVersion, () => driver.sample(ctx, ctx.toVersion))
      case 'commit': return this.commit(ctx)
      default: throw new Error(`${job.kind} has no step ${name}`)
    }
  }

  /**
   * The watch window: samples the whole stack (every service's health, the web's version) from
   * the end of `verify` for `watchMs`. The first failing sample ends it, and the error carries
   * that sample, so the job's reason says what fell over and when.
   */
  private async watch(ctx: StepContext, version: string, take: () => Promise<WatchSample>): Promise<void> {
    const windowMs = this.opts.watchMs
    const every = Math.max(10, Math.min(this.opts.watchSampleMs ?? WATCH_SAMPLE_MS, windowMs || WATCH_SAMPLE_MS))
    ctx.log(`watching every service and the web's version (${version}) for ${formatSeconds(windowMs)} (OWLAT_WATCH_MS), a sample every ${formatSeconds(every)}`)
    const startedAt = Date.now()
    let samples = 0
    let reportedAt = startedAt
    for (;;) {
      ctx.signal.throwIfAborted()
      const sample = await take()
      samples++
      const now = Date.now()
      const at = `${formatSeconds(now - startedAt)} of ${formatSeconds(windowMs)}`
      if (!sample.ok) throw new Error(`sample ${samples} of the watch window (${at}) failed: ${sample.detail}`)
      if (now - startedAt >= windowMs) {
        ctx.log(`stayed healthy through the watch window (${samples} samples over ${formatSeconds(now - startedAt)}): ${sample.detail}`)
        return
      }
      if (now - reportedAt >= WATCH_REPORT_MS) {
        reportedAt = now
        ctx.log(`${formatSeconds(startedAt + windowMs - now)} left (${at}): ${sample.detail}`)
      }
      await sleep(Math.min(every, startedAt + windowMs - now), undefined, { signal: ctx.signal })
    }
  }

  private async preflight(ctx: StepContext, job: Job, driverPreflight = () => this.opts.driver.preflight(ctx)): Promise<void> {
    await this.opts.preflightChecks?.(ctx, job)
    await driverPreflight()
  }

  private async commit(ctx: StepContext): Promise<void> {
    // Never held: a commit the journal cannot record did not happen, and the update is undone.
    if (this.held.holding) throw new Error(this.journalFailure())
    try {
      this.opts.journal.setInstalledVersion(ctx.toVersion)
    }
    catch (err) {
      if (!isStorageFailure(err)) throw err
      this.held.lastError = messageOf(err)
      throw new Error(this.journalFailure(), { cause: err })
    }
    ctx.log(`installed version is now ${ctx.toVersion} (was ${ctx.fromVersion})`)
  }

  /**
   * Journals the step around `run`; returns null on success, the error text on failure. While the
   * journal refuses writes, only the steps that put things back run; any other step fails with
   * that reason, so the job goes no further than the journal can record.
   */
  private async runStep(job: Job, hop: number, name: StepName, firstLine: string | null, run: (ctx: StepContext) => Promise<void>): Promise<string | null | typeof ABORTED> {
    const { journal } = this.opts
    if (this.abort.signal.aborted) return ABORTED
    const startedAt = Date.now()
    this.record(`${name} started`, () => journal.startStep(job.id, name, startedAt, hop))
    const needsJournal = !RUN_WITHOUT_JOURNAL.has(name)
    if (needsJournal && this.held.holding) return this.failStep(job, hop, name, this.journalFailure())
    const input = journal.jobInput(job.id)
    const last = runPath(job).length - 1
    let skipped: string | null = null
    const log = (line: string) => this.record(`${name} log`, () => journal.appendLog(job.id, name, line, hop), { isLog: true })
    const ctx: StepContext = {
      jobId: job.id,
      kind: job.kind,
      // Each hop goes from the version the hop before committed to its own.
      fromVersion: hopFrom(job, hop),
      toVersion: hopTo(job, hop),
      hop,
      compose: hop < last ? input.stopComposes[hop]! : input.compose,
      force: input.force,
      backup: input.backup,
      restoreBackupJobId: input.restoreBackupJobId,
      restoreArchive: input.restoreArchive,
      recordBackup: backup => this.record('backup', () => journal.setJobBackup(job.id, backup)),
      signal: this.abort.signal,
      log,
      skip: (reason) => {
        skipped = reason
        log(reason)
      },
    }
    if (firstLine) ctx.log(firstLine)
    let error: string | null = null
    try {
      await run(ctx)
    }
    catch (err) {
      if (this.abort.signal.aborted) return ABORTED
      error = (err as Error).message || String(err)
    }
    // A step whose own records did not land counts as failed: nothing may build on it unrecorded.
    if (error === null && needsJournal && this.held.holding) error = this.journalFailure()
    if (error !== null) return this.failStep(job, hop, name, error)
    const endedAt = Date.now()
    this.record(`${name} finished`, () => journal.finishStep(job.id, name, skipped === null ? 'succeeded' : 'skipped', null, endedAt, hop))
    return null
  }

  private failStep(job: Job, hop: number, name: StepName, error: string): string {
    const endedAt = Date.now()
    this.record(`${name} failed`, () => this.opts.journal.finishStep(job.id, name, 'failed', error, endedAt, hop))
    this.opts.log(`job ${job.id}: ${name} failed: ${error}`)
    return error
  }

  private finish(job: Job, status: RunStatus, reason: string | null, note: string | null): void {
    const full = reason && note ? `${reason} (${note})` : reason
    const endedAt = Date.now()
    const landed = this.record(`job ${job.id} ${status}`, () => this.opts.journal.setJobStatus(job.id, status, full, endedAt))
    const pending = landed ? '' : ' (held in memory until the journal takes writes again)'
    this.opts.log(`job ${job.id} (${job.kind} ${job.fromVersion} → ${job.toVersion}): ${status}${full ? `: ${full}` : ''}${pending}`)
  }

  /** A step a dead sidecar left "running" will not run again: record that it was cut short. */
  private closeInterruptedSteps(job: Job): void {
    for (const step of job.steps) {
      if (step.status === 'running') this.record(`${step.name} failed`, () => this.opts.journal.finishStep(job.id, step.name, 'failed', 'interrupted by an updater restart', Date.now(), hopOf(step)))
    }
  }
}
