/**
 * Following a job live over the sidecar's event stream. The stream resumes from the last event
 * id, so a dropped connection (or a sidecar restart) costs nothing but a reconnect; Ctrl-C
 * only detaches: the job belongs to the sidecar and keeps running.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { isTerminalStatus } from '../shared/run-state'
import type { Job } from '../shared/schemas/job'
import { CliError } from './errors'
import type { JobPrinter } from './job-view'
import { SidecarUnreachableError, type SidecarClient } from '../shared/sidecar-client'

export interface FollowOptions {
  signal: AbortSignal
  /** Reconnect attempts in a row without a new event before giving up. */
  maxReconnects?: number
  reconnectDelayMs?: number
}

/** The stream broke or the updater is restarting: worth a reconnect. */
function isTransient(err: unknown): boolean {
  return err instanceof SidecarUnreachableError
}

/** Resolves with the job once it is finished; prints every event on the way, once. */
export async function followJob(client: SidecarClient, jobId: string, printer: JobPrinter, opts: FollowOptions): Promise<Job> {
  const maxReconnects = opts.maxReconnects ?? 10
  const delayMs = opts.reconnectDelayMs ?? 1000
  let lastEventId: string | null = null
  let failures = 0
  let lastError: unknown = null
  for (;;) {
    let progressed = false
    try {
      for await (const { id, event } of client.events(jobId, { lastEventId, signal: opts.signal })) {
        if (id !== null) lastEventId = id
        progressed = true
        if (event.type === 'log') {
          printer.log(event.step, event.line)
          continue
        }
        printer.job(event.job)
        if (isTerminalStatus(event.job.status)) return event.job
      }
      // An empty stream that ends at once: ask for the job itself rather than spin on reconnects.
      if (!progressed) {
        const job = await client.getJob(jobId)
        if (isTerminalStatus(job.status)) {
          printer.job(job)
          return job
        }
      }
    }
    catch (err) {
      if (opts.signal.aborted) throw err
      if (!isTransient(err)) throw err
      lastError = err
    }
    // The stream ended or broke after new events: resume from the last one straight away.
    if (progressed) {
      failures = 0
      continue
    }
    failures += 1
    if (failures > maxReconnects) {
      const why = lastError instanceof Error ? ` (${lastError.message})` : ''
      throw new CliError(`lost the updater's event stream for job ${jobId}${why}: follow it again with owlat logs --job ${jobId}`)
    }
    await sleep(delayMs * Math.min(failures, 5), undefined, { signal: opts.signal })
  }
}

/** Runs `follow` with Ctrl-C turned into a detach that says how to follow again. */
export async function followWithDetach(jobId: string, follow: (signal: AbortSignal) => Promise<Job>): Promise<Job> {
  const controller = new AbortController()
  const onSigint = () => controller.abort()
  process.once('SIGINT', onSigint)
  try {
    return await follow(controller.signal)
  }
  catch (err) {
    if (controller.signal.aborted) {
      throw new CliError(`detached from job ${jobId}, which keeps running: follow it again with owlat logs --job ${jobId}`, 'detached')
    }
    throw err
  }
  finally {
    process.off('SIGINT', onSigint)
  }
}
