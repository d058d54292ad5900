/**
 * `owlat upgrade [--version V] [--yes]` and `owlat rollback [--version V] [--yes]`: pick a
 * release from the release folder, verify it, confirm, hand it to the updater and follow the job
 * until it ends. Exit 0 only when the job succeeded.
 */
import { defineCommand, type ArgsDef } from 'citty'
import { consola } from 'consola'
import semver from 'semver'
import { z } from 'zod'
import type { RunKind } from '../../shared/run-state'
import { versionSchema } from '../../shared/schemas/common'
import type { JobRequest } from '../../shared/schemas/job'
import type { ReleaseManifest } from '../../shared/schemas/release'
import { isOnChannel, isPrerelease, isVersion, newestApplicable, type Channel } from '../../shared/version'
import { validateArgs } from '../args'
import { cliRequester, commandEnv, type CommandEnv } from '../context'
import { releasePublicKey } from '../env'
import { CliError } from '../errors'
import { followJob, followWithDetach } from '../follow'
import { JobPrinter, outcome, printLine } from '../job-view'
import { checkRelease, listReleaseVersions, type LocalRelease } from '../releases'
import { SidecarRejectedError } from '../../shared/sidecar-client'

const jobArgs = {
  version: { type: 'string', description: 'Target version (default: see the command)', valueHint: 'V' },
  yes: { type: 'boolean', description: 'Do not ask for confirmation' },
} satisfies ArgsDef

const jobArgsSchema = z.object({
  version: versionSchema.optional(),
  yes: z.boolean().default(false),
})

interface Target {
  kind: RunKind
  release: LocalRelease
  manifest: ReleaseManifest
}

/** Pre-releases only count for an instance already on one (the CLI has no channel setting of its own). */
function channelOf(installed: string): Channel {
  return isPrerelease(installed) ? 'beta' : 'stable'
}

function verified(ctx: CommandEnv, version: string, publicKey: string): Omit<Target, 'kind'> {
  const check = checkRelease(ctx.config.releaseDir, version, publicKey, ctx.policy)
  if (!check.ok) throw new CliError(`release ${version} failed verification, nothing was changed: ${check.reason}`)
  return { release: check.release, manifest: check.manifest }
}

/** A release that migrated data can only go back as far as its rollback floor. */
function assertAboveFloor(ctx: CommandEnv, installed: string, target: string, publicKey: string): void {
  const current = checkRelease(ctx.config.releaseDir, installed, publicKey, ctx.policy)
  const floor = current.ok && current.manifest.migrations.migratesData ? current.manifest.migrations.rollbackFloor : null
  if (floor && semver.lt(target, floor)) {
    throw new CliError(`cannot go back to ${target}: ${installed} migrated data and can only roll back to ${floor} or newer`)
  }
}

function installedVersion(version: string): string {
  if (!isVersion(version)) throw new CliError(`the updater reports version "${version}", which is not a release version: update by hand`)
  return version
}

/** `upgrade --version` may go back (operators use it to roll back); `rollback --version` never goes forward. */
function pickExplicit(ctx: CommandEnv, mode: RunKind, installed: string, version: string, publicKey: string): Target {
  const available = listReleaseVersions(ctx.config.releaseDir)
  if (!available.includes(version)) {
    throw new CliError(`no release ${version} in ${ctx.config.releaseDir} (available: ${available.join(', ') || 'none'})`)
  }
  if (version === installed) throw new CliError(`${version} is already installed: nothing to do`)
  const kind: RunKind = semver.gt(version, installed) ? 'update' : 'rollback'
  if (mode === 'rollback' && kind === 'update') {
    throw new CliError(`${version} is newer than the installed ${installed}: use owlat upgrade --version ${version}`)
  }
  if (kind === 'rollback') assertAboveFloor(ctx, installed, version, publicKey)
  return { kind, ...verified(ctx, version, publicKey) }
}

function pickUpgrade(ctx: CommandEnv, installed: string, publicKey: string): Target | null {
  const available = listReleaseVersions(ctx.config.releaseDir).map(version => ({ version }))
  const newest = newestApplicable(available, installed, channelOf(installed))
  // The newest release failing verification is a warning sign, not a cue to quietly take an older one.
  return newest ? { kind: 'update', ...verified(ctx, newest.version, publicKey) } : null
}

function pickRollback(ctx: CommandEnv, installed: string, publicKey: string): Target {
  const older = listReleaseVersions(ctx.config.releaseDir)
    .filter(v => semver.lt(v, installed) && isOnChannel(v, channelOf(installed)))
  for (const version of older) {
    const check = checkRelease(ctx.config.releaseDir, version, publicKey, ctx.policy)
    if (check.ok) {
      assertAboveFloor(ctx, installed, version, publicKey)
      return { kind: 'rollback', release: check.release, manifest: check.manifest }
    }
    printLine(`skipping ${version}: ${check.reason}`)
  }
  throw new CliError(`no verified release older than ${installed} in ${ctx.config.releaseDir}: pass --version or add the release's artifacts`)
}

function showPlan(installed: string, target: Target): void {
  const { manifest } = target
  printLine(`${target.kind === 'update' ? 'Update' : 'Roll back'}: ${installed} → ${manifest.version} (${manifest.channel}, published ${manifest.publishedAt.slice(0, 10)})`)
  if (manifest.severity === 'security') printLine('This is a security release.')
  if (manifest.migrations.migratesData) {
    printLine(`This release migrates data; it can roll back to ${manifest.migrations.rollbackFloor ?? 'no earlier version'} afterwards.`)
  }
  const notes = manifest.notes.trim()
  if (notes) printLine(`\n${notes}\n`)
}

function noTerminal(): CliError {
  return new CliError('no terminal to confirm on: pass --yes to proceed without asking', 'usage')
}

async function confirm(question: string, yes: boolean, requireFlagWithoutTty: boolean): Promise<void> {
  if (yes) return
  if (!process.stdin.isTTY) {
    if (requireFlagWithoutTty) throw noTerminal()
    return
  }
  const answer = await consola.prompt(question, { type: 'confirm', initial: false, cancel: 'null' })
  if (answer !== true) throw new CliError('cancelled: nothing was changed')
}

async function runJob(mode: RunKind, args: z.output<typeof jobArgsSchema>): Promise<void> {
  // Fail before touching anything when the answer could never be given.
  if (mode === 'update' && !args.yes && !process.stdin.isTTY) throw noTerminal()
  const ctx = commandEnv()
  const client = ctx.client()
  const key = releasePublicKey(ctx.config)
  const installed = installedVersion((await client.health()).version)

  let target: Target | null
  if (args.version) target = pickExplicit(ctx, mode, installed, args.version, key)
  else if (mode === 'update') target = pickUpgrade(ctx, installed, key)
  else target = pickRollback(ctx, installed, key)
  if (!target) {
    printLine(`✔ Owlat ${installed} is up to date (release folder ${ctx.config.releaseDir})`)
    return
  }

  showPlan(installed, target)
  // Upgrades must be confirmed even in scripts (--yes); an explicit rollback is its own consent
  // outside a terminal, which keeps `owlat rollback --version V` scriptable as pinned.
  await confirm(`${target.kind === 'update' ? 'Update' : 'Roll back'} to ${target.manifest.version} now?`, args.yes, mode === 'update')

  const request: JobRequest = {
    runId: null,
    kind: target.kind,
    targetVersion: target.manifest.version,
    manifest: target.release.manifestBytes.toString('base64'),
    signature: target.release.signature.trim(),
    compose: target.release.compose,
    requestedBy: cliRequester(),
  }
  let jobId: string
  try {
    ({ jobId } = await client.createJob(request))
  }
  catch (err) {
    if (err instanceof SidecarRejectedError && err.status === 409) {
      throw new CliError(`the updater is busy: ${err.detail ?? 'a job is active'}; see owlat status`)
    }
    throw err
  }
  printLine(`Job ${jobId} accepted: ${target.kind} ${installed} → ${target.manifest.version}. Ctrl-C detaches; the job keeps running.`)

  const printer = new JobPrinter()
  const job = await followWithDetach(jobId, signal => followJob(client, jobId, printer, { signal }))
  if (job.status !== 'succeeded') throw new CliError(`${outcome(job)} (details: owlat logs --job ${job.id})`)
  printLine(`✔ Owlat now runs ${job.toVersion}`)
}

export const upgradeCommand = defineCommand({
  meta: { name: 'upgrade', description: 'Update to the newest release (or --version V) and follow it live' },
  args: jobArgs,
  async run(ctx) {
    await runJob('update', validateArgs(ctx, jobArgs, jobArgsSchema))
  },
})

export const rollbackCommand = defineCommand({
  meta: { name: 'rollback', description: 'Roll back to the newest verified older release (or --version V)' },
  args: jobArgs,
  async run(ctx) {
    await runJob('rollback', validateArgs(ctx, jobArgs, jobArgsSchema))
  },
})
