/**
 * `owlat logs SERVICE [--tail N]`: a service's recent output, from the updater.
 * `owlat logs --job ID`: a job's steps and their logs, followed live while it runs.
 */
import { defineCommand, type ArgsDef } from 'citty'
import { z } from 'zod'
import { isTerminalStatus } from '../../shared/run-state'
import { countArg, validateArgs } from '../args'
import { commandEnv } from '../context'
import { CliError, usageError } from '../errors'
import { followJob, followWithDetach } from '../follow'
import { describeJob, JobPrinter, outcome, printLine, requester } from '../job-view'
import { SidecarRejectedError } from '../../shared/sidecar-client'

/** The updater keeps at most this many lines per service. */
export const MAX_TAIL = 5000

const logsArgs = {
  service: { type: 'positional', description: 'Service name (see owlat status)', required: false },
  tail: { type: 'string', description: `Lines of service output (1-${MAX_TAIL}, default 200)`, valueHint: 'N' },
  job: { type: 'string', description: 'Show (and follow) the logs of an update job', valueHint: 'ID' },
} satisfies ArgsDef

const logsSchema = z.object({
  service: z.string().regex(/^[\w.-]{1,100}$/, 'must be a service name such as web').optional(),
  tail: countArg(1, MAX_TAIL).optional(),
  job: z.string().regex(/^[\w-]{1,100}$/, 'must be a job id as shown by owlat history').optional(),
})

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
      let lines: string[]
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
      for (const line of lines) printLine(line)
      return
    }

    const jobId = args.job!
    const job = await client.getJob(jobId)
    printLine(`Job ${job.id}: ${describeJob(job)}, requested by ${requester(job)}`)
    const printer = new JobPrinter()
    if (isTerminalStatus(job.status)) {
      printer.snapshot(job)
      printLine(outcome(job))
      return
    }
    // The event stream replays the whole job from its first event, then goes on live.
    const finished = await followWithDetach(jobId, signal => followJob(client, jobId, printer, { signal }))
    printLine(outcome(finished))
  },
})
