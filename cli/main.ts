/**
 * `owlat`: the operator's command line for the updater (DESIGN.md, CLI). Defines the command
 * tree and runs it so that every failure ends as one line on stderr and a non-zero exit code.
 */
import { readFileSync } from 'node:fs'
import { defineCommand, renderUsage, runCommand, type CommandDef } from 'citty'
import { adminCommand } from './commands/admin'
import { backupCommand, restoreCommand } from './commands/backup'
import { bundleCommand } from './commands/bundle'
import { composeCommand } from './commands/compose'
import { configCommand } from './commands/config'
import { doctorCommand } from './commands/doctor'
import { logsCommand } from './commands/logs'
import { releaseCommand } from './commands/release'
import { historyCommand, statusCommand } from './commands/status'
import { rollbackCommand, upgradeCommand } from './commands/upgrade'
import { CliError, oneLine, usageError } from './errors'
import { asCliError } from './sidecar'
import { bold } from './style'

/** The image's version (the updater image sets OWLAT_VERSION), else the package's. */
function cliVersion(): string {
  if (process.env.OWLAT_VERSION?.trim()) return process.env.OWLAT_VERSION.trim()
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: string }
  return pkg.version ?? 'unknown'
}

export const mainCommand = defineCommand({
  meta: { name: 'owlat', version: cliVersion(), description: 'Update, roll back and inspect a self-hosted Owlat instance' },
  subCommands: {
    upgrade: upgradeCommand,
    rollback: rollbackCommand,
    status: statusCommand,
    history: historyCommand,
    logs: logsCommand,
    doctor: doctorCommand,
    backup: backupCommand,
    restore: restoreCommand,
    compose: composeCommand,
    release: releaseCommand,
    bundle: bundleCommand,
    admin: adminCommand,
    config: configCommand,
  },
})

/**
 * The command `--help` is about, and the words that lead to it: follow the non-flag words down
 * the tree while they name subcommands.
 */
async function helpTarget(argv: string[]): Promise<{ cmd: CommandDef, path: string[] }> {
  let cmd: CommandDef = mainCommand as CommandDef
  const path: string[] = []
  for (const word of argv.filter(a => !a.startsWith('-'))) {
    const subs = (typeof cmd.subCommands === 'function' ? await cmd.subCommands() : await cmd.subCommands) ?? {}
    const next = subs[word]
    if (!next) break
    cmd = (typeof next === 'function' ? await next() : await next) as CommandDef
    path.push(word)
  }
  return { cmd, path }
}

/** citty's usage marks commands with backticks (markdown); on a terminal they are bold, never literal. */
function plainUsage(usage: string): string {
  return usage
    .replace(/`([^`]*)`/g, (_, code: string) => bold(code.trim()))
    .split('\n').map(line => line.trimEnd()).join('\n')
}

function fail(thrown: unknown): number {
  const err = asCliError(thrown)
  const citty = err instanceof Error && err.name === 'CLIError'
  const error = err instanceof CliError
    ? err
    : citty
      // citty's own parse errors ("Unknown command `x`", "No command specified.").
      ? usageError(`${err.message.charAt(0).toLowerCase()}${err.message.slice(1).replace(/`/g, '"').replace(/\.$/, '')}: see owlat --help`)
      : new CliError(`unexpected error: ${oneLine(err)}`)
  process.stderr.write(`owlat: ${oneLine(error)}\n`)
  return error.exitCode
}

/** Runs the CLI; resolves with the exit code (never rejects). */
export async function main(argv: string[]): Promise<number> {
  try {
    if (argv.includes('--help') || argv.includes('-h')) {
      const { cmd, path } = await helpTarget(argv)
      // citty names a command after its parent's name alone: give it the whole way there ("owlat admin").
      const parent = path.length === 0 ? undefined : { meta: { name: ['owlat', ...path.slice(0, -1)].join(' ') } } as CommandDef
      process.stdout.write(`${plainUsage(await renderUsage(cmd, parent))}\n`)
      return 0
    }
    if (argv.length === 1 && argv[0] === '--version') {
      process.stdout.write(`${cliVersion()}\n`)
      return 0
    }
    await runCommand(mainCommand, { rawArgs: argv })
    return 0
  }
  catch (err) {
    return fail(err)
  }
}

/** The process entry (`cli/bin.mjs`): runs with the process's arguments and exits with the code. */
export async function run(): Promise<never> {
  // Nothing may escape as a stack trace, not even from a stray callback.
  process.on('uncaughtException', err => process.exit(fail(err)))
  process.on('unhandledRejection', err => process.exit(fail(err)))
  // Exit explicitly: an idle keep-alive socket to the updater must not hold the process open.
  process.exit(await main(process.argv.slice(2)))
}
