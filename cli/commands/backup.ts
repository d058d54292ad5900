/**
 * `owlat backup [--list]` and `owlat restore FILE [--yes]` (the seed's `scripts/backup.sh` and
 * `scripts/restore.sh`): the updater takes the archive (pausing the stateful services only while
 * their volumes are copied) and runs the restore as a job, with the undo backup it takes first.
 */
import { defineCommand, type ArgsDef } from 'citty'
import { consola } from 'consola'
import { z } from 'zod'
import { backupFileSchema, type BackupArchive } from '../../shared/schemas/backup'
import { SidecarRejectedError } from '../../shared/sidecar-client'
import { validateArgs } from '../args'
import { cliRequester, commandEnv } from '../context'
import { CliError } from '../errors'
import { followJob, followWithDetach } from '../follow'
import { formatTime, JobPrinter, outcome, printFailure, printLine } from '../job-view'
import { bold, dim, green } from '../style'
import { formatBytes } from '../../shared/format-bytes'

function busy(err: unknown): unknown {
  if (err instanceof SidecarRejectedError && err.status === 409) return new CliError(`the updater is busy: ${err.detail ?? 'a job is active'}; see owlat status`)
  return err
}

const backupArgs = {
  list: { type: 'boolean', description: 'List the backups instead of taking one' },
  json: { type: 'boolean', description: 'With --list: print JSON' },
} satisfies ArgsDef

export const backupCommand = defineCommand({
  meta: { name: 'backup', description: 'Back up the data volumes, .env and compose file now (or --list the backups)' },
  args: backupArgs,
  async run(ctx) {
    const args = validateArgs(ctx, backupArgs, z.object({ list: z.boolean().default(false), json: z.boolean().default(false) }))
    if (args.json && !args.list) throw new CliError('--json goes with --list', 'usage')
    const client = commandEnv().client()
    if (args.list) {
      const list = await client.listBackups()
      if (args.json) return printLine(JSON.stringify(list, null, 2))
      if (!list.supported) throw new CliError(`this updater cannot back up: ${list.reason ?? 'its driver has no backups'}`)
      if (list.backups.length === 0) printLine('No backups yet: owlat backup takes one')
      const width = Math.max(0, ...list.backups.map(b => b.file.length))
      for (const b of list.backups) printLine(`${b.file.padEnd(width)}  ${formatTime(b.createdAt)}  ${b.version.padEnd(12)}  ${formatBytes(b.bytes).padStart(10)}  ${b.reason}`)
      printLine(dim(`keeping the newest ${list.keep} (OWLAT_BACKUP_KEEP)${list.schedule ? `; a backup is taken every day at ${list.schedule} UTC (OWLAT_BACKUP_AT)` : ''}`))
      return
    }
    printLine('Backing up: the services that write to the data volumes are paused while those are copied…')
    let created: { backup: BackupArchive, pruned: string[] }
    try {
      created = await client.createBackup('manual')
    }
    catch (err) {
      throw busy(err)
    }
    for (const file of created.pruned) printLine(dim(`removed old backup ${file} (OWLAT_BACKUP_KEEP)`))
    printLine(`${green('✔')} ${bold(created.backup.file)} (${formatBytes(created.backup.bytes)}, Owlat ${created.backup.version}: ${created.backup.volumes.join(', ') || 'no volumes'}, .env and compose file)`)
  },
})

const restoreArgs = {
  file: { type: 'positional', description: 'The backup to restore, as owlat backup --list names it', valueHint: 'FILE' },
  yes: { type: 'boolean', description: 'Do not ask for the typed confirmation' },
} satisfies ArgsDef

export const restoreCommand = defineCommand({
  meta: { name: 'restore', description: 'Bring the stack back to a backup (an undo backup is taken first)' },
  args: restoreArgs,
  async run(ctx) {
    const args = validateArgs(ctx, restoreArgs, z.object({
      // Only a name from the list: `backups/owlat-….tar.gz` or a path is taken by its name.
      file: z.string().transform(f => f.split('/').pop() ?? f).pipe(backupFileSchema),
      yes: z.boolean().default(false),
    }))
    if (!args.yes && !process.stdin.isTTY) throw new CliError('no terminal to confirm on: pass --yes to restore without the typed confirmation', 'usage')
    const client = commandEnv().client()
    const [list, health] = await Promise.all([client.listBackups(), client.health()])
    if (!list.supported) throw new CliError(`this updater cannot restore backups: ${list.reason ?? 'its driver has no backups'}`)
    const backup = list.backups.find(b => b.file === args.file)
    if (!backup) throw new CliError(`no backup ${args.file} (owlat backup --list shows them); nothing was changed`)
    printLine(`Restore ${bold(backup.file)}: the data, .env and compose file as they were at ${formatTime(backup.createdAt)} on Owlat ${backup.version}.`)
    printLine(`The stack runs ${health.version} now; everything written since the backup is replaced. A backup of the current state is taken first, so this can be undone.`)
    if (!args.yes) {
      const typed = await consola.prompt(`Type the file name to confirm (${backup.file}):`, { type: 'text', cancel: 'null' })
      if (typeof typed !== 'string' || typed.trim() !== backup.file) throw new CliError('cancelled: the name did not match, nothing was changed')
    }
    let jobId: string
    try {
      ({ jobId } = await client.restoreBackup({ file: backup.file, requestedBy: cliRequester() }))
    }
    catch (err) {
      throw busy(err)
    }
    printLine(`Job ${jobId} accepted: restore ${health.version} → ${backup.version}. Ctrl-C detaches; the job keeps running.`)
    const job = await followWithDetach(jobId, signal => followJob(client, jobId, new JobPrinter(), { signal }))
    const undo = (await client.listBackups()).backups.find(b => b.reason === 'before-restore' && b.jobId === job.id)
    if (job.status !== 'succeeded') {
      printFailure(job)
      throw new CliError(`${outcome(job)} (details: owlat logs --job ${job.id})`)
    }
    printLine(`${green('✔')} Restored ${backup.file}: Owlat runs ${job.toVersion}`)
    if (undo) printLine(`To undo: owlat restore ${undo.file}`)
  },
})
