/** `owlat status [--json]` and `owlat history [--json] [--limit N]`, both from the updater. */
import { defineCommand, type ArgsDef } from 'citty'
import { z } from 'zod'
import { isActiveStatus, RUN_STATUS_TEXT } from '../../shared/run-state'
import { jobSchema, sidecarHealthSchema } from '../../shared/schemas/job'
import { countArg, validateArgs } from '../args'
import { commandEnv } from '../context'
import { describeJob, formatDuration, formatTime, printLine, requester, statusText, stepLabel } from '../job-view'
import { STEP_ACTIVITY, WATCH_STEP, type StepName } from '../../shared/steps'
import { dim } from '../style'

/** `status --json`: the updater's health plus the job in flight, if any. */
export const statusOutputSchema = sidecarHealthSchema.extend({ activeJob: jobSchema.nullable() })

/** How far back status looks for an active job; the sidecar runs one job at a time, newest first. */
const ACTIVE_LOOKBACK = 5
export const MAX_HISTORY = 100

const statusArgs = {
  json: { type: 'boolean', description: 'Print JSON' },
} satisfies ArgsDef

export const statusCommand = defineCommand({
  meta: { name: 'status', description: 'Installed version, driver, services and any job in flight' },
  args: statusArgs,
  async run(ctx) {
    const args = validateArgs(ctx, statusArgs, z.object({ json: z.boolean().default(false) }))
    const { client: sidecar, config } = commandEnv()
    const client = sidecar()
    const health = await client.health()
    const jobs = await client.listJobs(ACTIVE_LOOKBACK)
    const activeJob = jobs.find(j => isActiveStatus(j.status)) ?? null
    if (args.json) {
      printLine(JSON.stringify(statusOutputSchema.parse({ ...health, activeJob }), null, 2))
      return
    }
    printLine(`Installed version  ${health.version}`)
    printLine(`Driver             ${health.driver}`)
    printLine(`Updater            ${client.url}`)
    printLine('Services')
    if (health.services.length === 0) printLine('  (none reported)')
    const width = Math.max(0, ...health.services.map(s => s.name.length))
    for (const s of health.services) {
      printLine(`  ${s.name.padEnd(width)}  ${(s.version ?? '?').padEnd(8)}  ${s.state.padEnd(10)}  ${s.health.padEnd(9)}  ${s.image}`)
    }
    if (!activeJob) {
      printLine('Active job         none')
      return
    }
    const running = activeJob.steps.find(s => s.status === 'running')
    // The watch window counts down: "watching, 12 s of 60 s".
    const window = running?.name === WATCH_STEP ? ` of ${formatDuration(config.watchMs)}` : ''
    // A rehearsal's steps work on the copy: "start the new version on the copy", not "restarting services".
    const activity = running && (activeJob.kind === 'rehearsal' ? lowerFirst(stepLabel(running.name, activeJob.kind)) : STEP_ACTIVITY[running.name as StepName] ?? stepLabel(running.name))
    const doing = running ? ` (${activity}${running.startedAt ? `, ${formatDuration(Date.now() - running.startedAt)}${window}` : ''})` : ''
    printLine(`Active job         ${activeJob.id}: ${describeJob(activeJob)}, ${RUN_STATUS_TEXT[activeJob.status]}${doing}`)
    printLine(`                   follow it with: owlat logs --job ${activeJob.id}`)
  },
})

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1)
}

const historyArgs = {
  json: { type: 'boolean', description: 'Print JSON' },
  limit: { type: 'string', description: `How many jobs (1-${MAX_HISTORY}, default 20)`, valueHint: 'N' },
} satisfies ArgsDef

export const historyCommand = defineCommand({
  meta: { name: 'history', description: 'Past updates, rollbacks, restores and rehearsals, newest first' },
  args: historyArgs,
  async run(ctx) {
    const args = validateArgs(ctx, historyArgs, z.object({
      json: z.boolean().default(false),
      limit: countArg(1, MAX_HISTORY).default(20),
    }))
    const jobs = await commandEnv().client().listJobs(args.limit)
    if (args.json) {
      printLine(JSON.stringify({ jobs }, null, 2))
      return
    }
    if (jobs.length === 0) {
      printLine('No updates, rollbacks or rehearsals yet.')
      return
    }
    for (const job of jobs) {
      const took = job.startedAt !== null && job.endedAt !== null ? formatDuration(job.endedAt - job.startedAt) : '-'
      // Pad the words, then colour them: escape codes must not count toward the width.
      const status = statusText(job.status) + ' '.repeat(Math.max(0, 11 - RUN_STATUS_TEXT[job.status].length))
      printLine(`${formatTime(job.createdAt)}  ${describeJob(job).padEnd(28)}  ${status}  ${took.padEnd(9)}  ${requester(job)}  ${dim(job.id)}`)
      if (job.reason) printLine(`    ${dim(job.reason)}`)
    }
  },
})
