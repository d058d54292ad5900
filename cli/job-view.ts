/**
 * How jobs look on a terminal: step transitions and log lines while following, summaries for
 * status and history. Plain text on stdout so it pipes and greps well.
 */
import { STEP_LABELS, type StepName, type StepStatus } from '../shared/steps'
import type { Job } from '../shared/schemas/job'

export type Print = (line: string) => void

export const printLine: Print = line => process.stdout.write(`${line}\n`)

export function stepLabel(name: string): string {
  return STEP_LABELS[name as StepName] ?? name
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms} ms`
  const s = Math.round(ms / 1000)
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min ${s % 60} s`
}

export function formatTime(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').slice(0, 19)
}

export function describeJob(job: Job): string {
  return `${job.kind} ${job.fromVersion} → ${job.toVersion}`
}

export function requester(job: Job): string {
  return `${job.requestedBy.email ?? 'unknown'} via ${job.requestedBy.via}`
}

/** Prints what changed since the last job snapshot: step starts, ends and failures, once each. */
export class JobPrinter {
  private readonly seen = new Map<string, StepStatus>()
  constructor(private readonly print: Print = printLine) {}

  job(job: Job): void {
    for (const step of job.steps) {
      const before = this.seen.get(step.name) ?? 'pending'
      if (step.status === before) continue
      this.seen.set(step.name, step.status)
      const label = stepLabel(step.name)
      const took = step.startedAt !== null && step.endedAt !== null ? ` (${formatDuration(step.endedAt - step.startedAt)})` : ''
      if (step.status === 'running') this.print(`▸ ${label}…`)
      else if (step.status === 'succeeded') this.print(`✔ ${label}${took}`)
      else if (step.status === 'failed') this.print(`✖ ${label}${took}: ${step.error ?? 'failed'}`)
      // A step that started and then found nothing to do says so; steps a failure made moot never started.
      else if (step.status === 'skipped' && step.startedAt !== null) this.print(`– ${label}: skipped`)
    }
  }

  log(step: string, line: string): void {
    this.print(`  ${step} │ ${line}`)
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

/** One line for a finished job: the outcome and, when it did not succeed, why. */
export function outcome(job: Job): string {
  if (job.status === 'succeeded') return `${describeJob(job)} succeeded`
  if (job.status === 'rolled_back') return `${describeJob(job)} failed and ${job.fromVersion} was restored: ${job.reason ?? 'no reason recorded'}`
  return `${describeJob(job)} ${job.status}${job.reason ? `: ${job.reason}` : ''}`
}
