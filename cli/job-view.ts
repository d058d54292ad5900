/**
 * How jobs look on a terminal: step transitions and log lines while following, summaries for
 * status and history, and why a job failed with what to do now. Coloured on a terminal, plain on
 * a pipe (cli/style.ts); times are local, with their zone.
 */
import { hopFrom, hopOf, hopTo, isMultiHop, restoredVersion, runPath } from '../shared/hops'
import { DOWNTIME_STEPS, rehearsalFigures } from '../shared/rehearsal'
import { RUN_STATUS_TEXT, type RunStatus } from '../shared/run-state'
import { runOutcome } from '../shared/run-outcome'
import { parseOutputLine } from '../shared/service-output'
import { stepLabel as sharedStepLabel, STEP_LABELS, type StepName, type StepStatus } from '../shared/steps'
import type { Job } from '../shared/schemas/job'
import type { ReleaseManifest } from '../shared/schemas/release'
import { bold, dim, green, red, yellow } from './style'

export type Print = (line: string) => void

export const printLine: Print = line => process.stdout.write(`${line}\n`)

/** A step's label in a job of `kind` (a rehearsal's steps work on the copy); an unknown step keeps its name. */
export function stepLabel(name: string, kind?: string): string {
  return name in STEP_LABELS ? sharedStepLabel(name as StepName, kind) : name
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms} ms`
  const s = Math.round(ms / 1000)
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min ${s % 60} s`
}

const LOCAL = new Intl.DateTimeFormat('en-US', {
  year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
  hourCycle: 'h23', timeZoneName: 'short',
})

/** `2026-11-20 13:04:05 CET`: the operator's local time (TZ), with its zone. */
export function formatTime(ms: number): string {
  const parts = Object.fromEntries(LOCAL.formatToParts(new Date(ms)).map(p => [p.type, p.value]))
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}:${parts.second} ${parts.timeZoneName}`
}

/** `rolled back`, coloured by how it ended. */
export function statusText(status: RunStatus): string {
  const text = RUN_STATUS_TEXT[status]
  if (status === 'succeeded') return green(text)
  if (status === 'rolled_back') return yellow(text)
  if (status === 'failed') return red(text)
  return text
}

/**
 * `update 1.2.2 → 1.3.1`, with its stops when it has some: `update 1.2.2 → 1.3.0 → 1.3.1`. A
 * rehearsal installs nothing: `rehearsal of 1.3.1`, `rehearsal of 1.3.1 via 1.3.0`.
 */
export function describeJob(job: Pick<Job, 'kind' | 'fromVersion' | 'toVersion' | 'path'>): string {
  if (job.kind === 'rehearsal') {
    const stops = runPath(job).slice(0, -1)
    return `rehearsal of ${job.toVersion}${stops.length > 0 ? ` via ${stops.join(', ')}` : ''}`
  }
  return `${job.kind} ${[job.fromVersion, ...runPath(job)].join(' → ')}`
}

export function requester(job: Job): string {
  // The scheduler acts for no one admin: the policy the admins set.
  if (job.requestedBy.via === 'schedule') return 'the automatic update policy'
  return `${job.requestedBy.email ?? 'unknown'} via ${job.requestedBy.via}`
}

/** A step log line as the operator reads it: a service's captured output with its time and version. */
export function logLine(line: string): string {
  const output = parseOutputLine(line)
  return output ? `${dim(formatTime(output.at))} ${output.service}${output.version ? `@${output.version}` : ''} │ ${output.line}` : line
}

/** Prints what changed since the last job snapshot: step starts, ends and failures, once each. */
export class JobPrinter {
  private readonly seen = new Map<string, StepStatus>()
  private readonly hopsShown = new Set<number>()
  constructor(private readonly print: Print = printLine) {}

  job(job: Job): void {
    for (const step of job.steps) {
      const key = `${hopOf(step)}:${step.name}`
      const before = this.seen.get(key) ?? 'pending'
      if (step.status === before) continue
      this.seen.set(key, step.status)
      // A run through required stops says which hop each step belongs to, once, as the hop begins.
      const hop = hopOf(step)
      if (isMultiHop(job) && !this.hopsShown.has(hop) && step.status !== 'pending') {
        this.hopsShown.add(hop)
        this.print(bold(`Hop ${hop + 1} of ${runPath(job).length}: ${hopFrom(job, hop)} → ${hopTo(job, hop)}`))
      }
      const label = stepLabel(step.name, job.kind)
      const took = step.startedAt !== null && step.endedAt !== null ? dim(` (${formatDuration(step.endedAt - step.startedAt)})`) : ''
      if (step.status === 'running') this.print(`${dim('▸')} ${label}…`)
      else if (step.status === 'succeeded') this.print(`${green('✔')} ${label}${took}`)
      else if (step.status === 'failed') this.print(`${red('✖')} ${label}${took}: ${step.error ?? 'failed'}`)
      // A step that started and then found nothing to do says so; steps a failure made moot never started.
      else if (step.status === 'skipped' && step.startedAt !== null) this.print(`${dim('–')} ${label}: skipped`)
    }
  }

  log(step: string, line: string): void {
    this.print(`  ${dim(`${step} │`)} ${logLine(line)}`)
  }

  /** A finished job from its snapshot: every step that ran, with its bounded log. */
  snapshot(job: Job): void {
    for (const step of job.steps) {
      if (step.status === 'pending' || (step.status === 'skipped' && step.startedAt === null)) continue
      this.job({ ...job, steps: [{ ...step, status: 'running', endedAt: null }] })
      for (const line of step.log) this.log(step.name, line)
      if (step.status !== 'running') this.job({ ...job, steps: [step] })
    }
  }
}

/** One plain line for a finished job (it also ends up on stderr): the outcome and, when it did not succeed, why. */
export function outcome(job: Job): string {
  if (job.status === 'succeeded') return `${describeJob(job)} succeeded`
  if (job.status === 'rolled_back') return `${describeJob(job)} failed and ${restoredVersion(job)} was restored: ${job.reason ?? 'no reason recorded'}`
  return `${describeJob(job)} ${RUN_STATUS_TEXT[job.status]}${job.reason ? `: ${job.reason}` : ''}`
}

/**
 * Why a job did not succeed, as the page shows it: the cause, the failing service's last lines,
 * what was restored, and what to do now. Nothing for a success.
 */
export function printFailure(job: Job, print: Print = printLine): void {
  const result = runOutcome(job)
  if (!result) return
  print('')
  print(`${bold('Cause:')} ${result.cause}`)
  if (result.output.length) {
    const first = result.output[0]!
    print(bold(`The last lines ${first.service}${first.version ? ` ${first.version}` : ''} wrote${job.kind === 'rehearsal' ? ' on the copy' : ''}:`))
    for (const line of result.output) print(`  ${dim(formatTime(line.at))}  ${line.line}`)
  }
  if (result.restored) print(`${bold('Restored:')} ${result.restored}.`)
  print(`${bold('What to do now:')} ${result.nextStep}`)
}

/** What a release declares about its data, for the rehearsal's report. */
export function migrationsText(migrations: ReleaseManifest['migrations']): string {
  if (!migrations.migratesData) return 'declares no migration'
  return `migrates data: once installed it can roll back to ${migrations.rollbackFloor ?? 'no earlier version'} at the earliest`
}

/**
 * A finished rehearsal's report: how long each step took on the copy, the downtime the real
 * update should expect (`recreate` + `verify` on the copy), the migrations each release of its
 * path declares (when known: `migrations` by version) and the result.
 */
export function printRehearsalReport(job: Job, migrations: ReadonlyMap<string, ReleaseManifest['migrations']> = new Map(), print: Print = printLine): void {
  const figures = rehearsalFigures({ ...job, startedAt: job.startedAt ?? job.createdAt })
  const path = runPath(job)
  const multi = path.length > 1
  print('')
  print(bold(`Rehearsal report: ${job.fromVersion} → ${path.join(' → ')} on a copy of the data`))
  const ran = figures.steps.filter(step => step.status !== 'pending')
  const width = Math.max(0, ...ran.map(step => step.label.length))
  let hop = -1
  for (const step of ran) {
    if (multi && step.hop !== hop) {
      hop = step.hop
      print(`  Hop ${hop + 1} of ${path.length}: ${hopFrom(job, hop)} → ${hopTo(job, hop)}`)
    }
    const took = step.status === 'skipped' ? 'skipped' : step.durationMs === null ? (step.status === 'running' ? 'running' : '-') : formatDuration(step.durationMs)
    const mark = step.status === 'succeeded' ? green('✔') : step.status === 'failed' ? red('✖') : dim('–')
    print(`${multi ? '    ' : '  '}${mark} ${step.label.padEnd(width)}  ${took}`)
  }
  if (figures.totalMs !== null) print(`  ${'Total'.padEnd(width + (multi ? 4 : 2))}  ${formatDuration(figures.totalMs)}`)
  const downtimeSteps = DOWNTIME_STEPS.map(name => stepLabel(name, job.kind).toLowerCase()).join(' + ')
  print(figures.expectedDowntimeMs !== null
    ? `${bold('Expected downtime of the real update:')} about ${formatDuration(figures.expectedDowntimeMs)} (${downtimeSteps}${multi ? `, over ${path.length} hops` : ''})`
    : `${bold('Expected downtime of the real update:')} not measured: the rehearsal did not get through verify`)
  if (migrations.size > 0) {
    const lines = path.map(version => `${version} ${migrations.has(version) ? migrationsText(migrations.get(version)!) : 'was not read'}`)
    if (lines.length === 1) print(`${bold('Migrations:')} ${lines[0]}`)
    else {
      print(bold('Migrations:'))
      for (const line of lines) print(`  ${line}`)
    }
  }
  const result = job.status === 'succeeded'
    ? `${green('✔ passed')}${job.reason ? `: ${job.reason}` : ''}`
    : `${statusText(job.status)}${job.reason ? `: ${job.reason}` : ''}`
  print(`${bold('Result:')} ${result}`)
}
