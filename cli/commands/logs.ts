/**
 * `owlat logs SERVICE [--tail N]`: a service's recent output, from the updater, each line with
 * its local time and the version that wrote it.
 * `owlat logs --job ID`: a job's steps and their logs, followed live while it runs; ID is the id
 * the web page shows (a run's) or `owlat history` lists (a job's).
 */
import { defineCommand, type ArgsDef } from 'citty'
import { z } from 'zod'
import { isTerminalStatus } from '../../shared/run-state'
import { countArg, validateArgs } from '../args'
import { commandEnv } from '../context'
import { CliError, usageError } from '../errors'
import { followJob, followWithDetach } from '../follow'
import { describeJob, formatTime, JobPrinter, outcome, printFailure, printLine, printRehearsalReport, requester } from '../job-view'
import { dim } from '../style'
import { SidecarRejectedError, type SidecarClient } from '../../shared/sidecar-client'
import type { Job } from '../../shared/schemas/job'

/** The updater keeps at most this many lines per service. */
export const MAX_TAIL = 5000

const logsArgs = {
  service: { type: 'positional', description: 'Service name (see owlat status)', required: false },
  tail: { type: 'string', description: `Lines of service output (1-${MAX_TAIL}, default 200)`, valueHint: 'N' },
  job: { type: 'string', description: 'Show (and follow) the logs of an update run: the id on its web page or in owlat history', valueHint: 'ID' },
} satisfies ArgsDef

const logsSchema = z.object({
  service: z.string().regex(/^[\w.-]{1,100}$/, 'must be a service name such as web').optional(),
  tail: countArg(1, MAX_TAIL).optional(),
  job: z.string().regex(/^[\w-]{1,100}$/, 'must be a run id as the web page or owlat history shows it').optional(),
})

/** How many of the newest jobs are searched for a run id that is not a job id (runs from before one id). */
const RUN_LOOKUP_LIMIT = 100

/** The job `id` names: its own id, or the web run it belongs to. */
async function findJob(client: SidecarClient, id: string): Promise<Job> {
  try {
    return await client.getJob(id)
  }
  catch (err) {
    if (!(err instanceof SidecarRejectedError) || err.status !== 404) throw err
  }
  const job = (await client.listJobs(RUN_LOOKUP_LIMIT)).find(j => j.runId === id)
  if (!job) throw new CliError(`no run or job ${id} is known to the updater: see owlat history`)
  return job
}

export const logsCommand = defineCommand({
  meta: { name: 'logs', description: 'Logs of a service, or of an update job (--job ID)' },
  args: logsArgs,
  async run(ctx) {
    const args = validateArgs(ctx, logsArgs, logsSchema)
    if (args.job && args.service) throw usageError('give either a SERVICE or --job ID, not both')
    if (args.job && args.tail !== undefined) throw usageError('--tail applies to service logs, not to --job')
    if (!args.job && !args.service) throw usageError('name a SERVICE (see owlat status) or pass --job ID (see owlat history)')
    const client = commandEnv().client()

    if (args.service) {
      let lines: Array<{ line: string, at: number | null, version: string | null }>
      try {
        lines = await client.serviceLogs(args.service, args.tail ?? 200)
      }
      catch (err) {
        // An updater from before service logs answers "no route"; say so instead of a bare 404.
        if (err instanceof SidecarRejectedError && err.status === 404 && err.detail?.startsWith('no route')) {
          throw new CliError(`this updater cannot show service logs yet: update it, or use docker compose logs --tail=${args.tail ?? 200} ${args.service}`)
        }
        throw err
      }
      const width = Math.max(0, ...lines.map(l => l.version?.length ?? 0))
      for (const { line, at, version } of lines) {
        printLine(at === null ? line : `${dim(formatTime(at))}  ${dim((version ?? '?').padEnd(width))}  ${line}`)
      }
      return
    }

    const job = await findJob(client, args.job!)
    const jobId = job.id
    printLine(`Job ${job.id}: ${describeJob(job)}, requested by ${requester(job)}`)
    const printer = new JobPrinter()
    if (isTerminalStatus(job.status)) {
      printer.snapshot(job)
      ended(job)
      return
    }
    // The event stream replays the whole job from its first event, then goes on live.
    ended(await followWithDetach(jobId, signal => followJob(client, jobId, printer, { signal })))
  },
})

/** A finished job's outcome and, when it failed, why; a rehearsal's report first. */
function ended(job: Job): void {
  if (job.kind === 'rehearsal') printRehearsalReport(job)
  printLine(outcome(job))
  printFailure(job)
}
