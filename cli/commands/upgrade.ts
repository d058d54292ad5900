/**
 * `owlat upgrade [--version V] [--yes] [--try-again] [--ignore-checks --reason R]` and
 * `owlat rollback [--version V] [--yes]`: pick a release from the release source, judge it by the
 * shared target rules (the ones the web explains and the updater enforces), verify it, show the
 * path through required upgrade stops and the plan's checks (a failing one stops here unless
 * ignored with a reason), confirm, hand it to the updater and follow the job until it ends. A release that already failed on this instance is never picked by itself
 * and is installed again only with `--try-again`. Exit 0 only when the job succeeded.
 *
 * `owlat upgrade --rehearse [--version V]`: the same plan (its checks as a rehearsal's), then a
 * job of kind `rehearsal`: the target on a throwaway copy of the data, torn down at the end; it
 * never changes what runs. Ends with the report (each step's time, the real update's expected
 * downtime, the migrations the releases declare, the result); exit 0 only when it passed.
 */
import type { IndexFreshnessInput } from '../../shared/node/checks/release-index'
import { defineCommand, type ArgsDef } from 'citty'
import { consola } from 'consola'
import { z } from 'zod'
import { floorManifests, jobRequestFor } from '../../shared/job-request'
import type { ReleaseSource } from '../../shared/releases/source'
import type { RunKind as AnyRunKind } from '../../shared/run-state'
import { failedRehearsal } from '../../shared/rehearsal'

import { versionSchema } from '../../shared/schemas/common'
import type { ReleaseManifest, Release } from '../../shared/schemas/release'
import { SidecarRejectedError, type SidecarClient } from '../../shared/sidecar-client'
import { notesToText } from '../../shared/releases/notes'
import { RUN_STATUS_TEXT } from '../../shared/run-state'
import type { FailedAttempt } from '../../shared/schemas/api'
import { checkTarget, failedReleases, rollbackCandidates, runRecordsOfJobs, type RunRecord, type TargetCheck } from '../../shared/targets'
import { compareVersions, isPrerelease, isUpdate, isVersion, sortVersionsDesc, type Channel } from '../../shared/version'
import { validateArgs } from '../args'
import { cliRequester, commandEnv, type CommandEnv } from '../context'
import { releasePublicKey } from '../env'
import { CliError, usageError } from '../errors'
import { followJob, followWithDetach } from '../follow'
import { describeJob, formatTime, JobPrinter, outcome, printFailure, printLine, printRehearsalReport } from '../job-view'
import { bold, green, red, yellow, notesStyle } from '../style'
import { checkRelease, listJudgedReleases, releaseSource } from '../releases'
import { cliPath, cliPlanChecks, failing, type CliPlanChecks } from '../plan'
import { askStackChecks } from '../../shared/node/checks/plan'
import { formatCheck } from '../../shared/node/checks/types'
import { checkOverrideSchema, REHEARSAL_OVERRIDE_REFUSED, type CheckOverride } from '../../shared/schemas/common'
import type { Job, SidecarHealth, SignedIndexBody } from '../../shared/schemas/job'

/** What this command starts; a restore comes from `owlat restore FILE`. */
type RunKind = Exclude<AnyRunKind, 'restore'>

/** "update to 1.3.0", "roll back to 1.2.2", "rehearse 1.3.0": after "cannot", "Update … now?". */
function doing(kind: RunKind, version: string): string {
  return kind === 'update' ? `update to ${version}` : kind === 'rollback' ? `roll back to ${version}` : `rehearse ${version}`
}

const jobArgs = {
  'version': { type: 'string', description: 'Target version (default: see the command)', valueHint: 'V' },
  'yes': { type: 'boolean', description: 'Do not ask for confirmation' },
  'try-again': { type: 'boolean', description: 'Install the release even though it already failed on this instance' },
  'ignore-checks': { type: 'boolean', description: 'Go ahead although some of the plan\'s checks fail (needs --reason)' },
  'reason': { type: 'string', description: 'Why the failing checks may be ignored (recorded in the run)', valueHint: 'R' },
} satisfies ArgsDef

const upgradeArgs = {
  ...jobArgs,
  rehearse: { type: 'boolean', description: 'Rehearse the update on a throwaway copy of the data instead: what runs is never changed; ends with a report (step times, expected downtime, migrations)' },
} satisfies ArgsDef

const jobArgsObject = z.object({
  'version': versionSchema.optional(),
  'yes': z.boolean().default(false),
  'try-again': z.boolean().default(false),
  'ignore-checks': z.boolean().default(false),
  'reason': checkOverrideSchema.shape.reason.optional(),
})
const hasReason = (a: { 'ignore-checks': boolean, 'reason'?: string }) => !a['ignore-checks'] || a.reason !== undefined
const NEEDS_REASON = { path: ['reason'], message: '--ignore-checks needs --reason R: why it is safe to go ahead' }

const jobArgsSchema = jobArgsObject.refine(hasReason, NEEDS_REASON)

const upgradeArgsSchema = jobArgsObject.extend({ rehearse: z.boolean().default(false) })
  .refine(hasReason, NEEDS_REASON)
  .refine(a => !a.rehearse || !a['try-again'], { path: ['rehearse'], message: 'cannot be combined with --try-again: a rehearsal may try any newer release, also one that failed here' })

type JobArgs = z.output<typeof jobArgsSchema>

/** As many past jobs as the updater lists: versions this instance ran count for rollbacks. */
const HISTORY_LIMIT = 100

interface Situation {
  ctx: CommandEnv
  client: SidecarClient
  source: ReleaseSource
  installed: string
  releases: Release[]
  /** The source's signed index as served (the updater judges it again); null when it serves none. */
  index: SignedIndexBody | null
  freshness: IndexFreshnessInput
  runs: RunRecord[]
  /** Releases that failed on this instance, from the updater's own jobs. */
  failed: FailedAttempt[]
  health: SidecarHealth
  jobs: Job[]
}

interface Target {
  kind: RunKind
  version: string
  /** The rule's verdict: the target release, and what a rollback undoes. */
  check: Extract<TargetCheck, { ok: true }>
}

/**
 * The CLI has no channel setting of its own: pre-releases count for an instance already on one,
 * and an explicit pre-release version is itself the choice of the beta channel.
 */
function channelFor(installed: string, explicit: string | undefined): Channel {
  return isPrerelease(installed) || (explicit !== undefined && isPrerelease(explicit)) ? 'beta' : 'stable'
}

function installedVersion(version: string): string {
  if (!isVersion(version)) throw new CliError(`the updater reports version "${version}", which is not a release version: update by hand`)
  return version
}

/** "failed on this instance 2026-11-20 13:04:05 CET (rolled back: …)" */
function failedText(failed: FailedAttempt): string {
  return `failed on this instance ${formatTime(failed.endedAt)} (${RUN_STATUS_TEXT[failed.status]}${failed.reason ? `: ${failed.reason}` : ''})`
}

function judge(s: Situation, kind: RunKind, version: string, channel: Channel, retryFailed = false): Target {
  const check = checkTarget({ kind, targetVersion: version, currentVersion: s.installed, channel, releases: s.releases, runs: s.runs, retryFailed })
  if (!check.ok && check.failedHere) {
    throw new CliError(`cannot ${doing(kind, version)}: it ${failedText(check.failedHere)}; pass --try-again to install it again anyway`)
  }
  if (!check.ok) throw new CliError(`cannot ${doing(kind, version)}: ${check.reason}`)
  return { kind, version, check }
}

/**
 * `upgrade --version` may go back (operators use it to roll back); `rollback --version` never
 * goes forward; a rehearsal only tries what an update would install.
 */
function pickExplicit(s: Situation, mode: RunKind, version: string, retryFailed: boolean): Target {
  if (version === s.installed) throw new CliError(`${version} is already installed: nothing to ${mode === 'rehearsal' ? 'rehearse' : 'do'}`)
  if (mode === 'rehearsal') {
    if (compareVersions(version, s.installed) < 0) throw new CliError(`cannot rehearse ${version}: it is older than the installed ${s.installed}, and only an update can be rehearsed`)
    return judge(s, 'rehearsal', version, channelFor(s.installed, version))
  }
  const kind: RunKind = compareVersions(version, s.installed) > 0 ? 'update' : 'rollback'
  if (mode === 'rollback' && kind === 'update') {
    throw new CliError(`${version} is newer than the installed ${s.installed}: use owlat upgrade --version ${version}`)
  }
  return judge(s, kind, version, channelFor(s.installed, version), retryFailed)
}

/**
 * The newest release that is an update, passing over those that failed on this instance (said
 * on the way: they are offered again only with --version V --try-again). A rehearsal takes the
 * newest whatever happened to it here: rehearsing is how to find out whether it would now hold.
 */
function pickUpgrade(s: Situation, mode: 'update' | 'rehearsal'): Target | null {
  const channel = channelFor(s.installed, undefined)
  const updates = sortVersionsDesc(s.releases.filter(r => isUpdate(r.version, s.installed, channel)), r => r.version)
  if (mode === 'rehearsal') return updates[0] ? judge(s, 'rehearsal', updates[0].version, channel) : null
  for (const release of updates) {
    const failed = s.failed.find(f => f.version === release.version)
    if (!failed) {
      // The newest release failing verification is a warning sign, not a cue to quietly take an older one.
      return judge(s, 'update', release.version, channel)
    }
    printLine(`${yellow('skipping')} ${release.version}: it ${failedText(failed)}; to install it again anyway: owlat upgrade --version ${release.version} --try-again`)
  }
  return null
}

function pickRollback(s: Situation): Target {
  const channel = channelFor(s.installed, undefined)
  const candidates = rollbackCandidates({ currentVersion: s.installed, channel, releases: s.releases, runs: s.runs, backupsSupported: false })
  for (const candidate of candidates) {
    if (candidate.disabledReason === null && candidate.failedHere === null) return judge(s, 'rollback', candidate.version, channel)
    printLine(`${yellow('skipping')} ${candidate.version}: ${candidate.disabledReason ?? `it ${failedText(candidate.failedHere!)}`}`)
  }
  throw new CliError(`no verified release older than ${s.installed} in ${s.source.where}: pass --version or add the release's artifacts`)
}

const PLAN_TITLE: Record<RunKind, string> = { update: 'Update', rollback: 'Roll back', rehearsal: 'Rehearsal' }

function showPlan(s: Situation, kind: RunKind, manifest: ReleaseManifest, failed: FailedAttempt | null): void {
  printLine(bold(`${PLAN_TITLE[kind]}: ${s.installed} → ${manifest.version}`) + ` (${manifest.channel}, published ${manifest.publishedAt.slice(0, 10)})`)
  if (kind === 'rehearsal') {
    printLine(`On a throwaway copy of the data, torn down at the end: ${s.installed} keeps running and stays installed.`)
    const before = s.failed.find(f => f.version === manifest.version)
    if (before) printLine(yellow(`${manifest.version} ${failedText(before)}; the rehearsal shows whether it would hold now.`))
  }
  if (failed) printLine(red(`✖ ${manifest.version} already ${failedText(failed)}.`) + ' Installing it again anyway (--try-again).')
  if (kind === 'update') {
    const rehearsal = failedRehearsal(s.jobs.map(job => ({ ...job, startedAt: job.startedAt ?? job.createdAt })), manifest.version)
    if (rehearsal) printLine(red(`✖ The latest rehearsal of ${manifest.version} failed (${formatTime(rehearsal.endedAt ?? rehearsal.startedAt)}): ${rehearsal.reason ?? 'no reason recorded'}`) + ` (report: owlat logs --job ${rehearsal.id})`)
  }
  if (manifest.severity === 'security') printLine(red('This is a security release.'))
  if (manifest.migrations.migratesData) {
    printLine(yellow(`This release migrates data; it can roll back to ${manifest.migrations.rollbackFloor ?? 'no earlier version'} afterwards.`))
  }
  const notes = notesToText(manifest.notes, manifest.version, notesStyle)
  if (notes) printLine(`\n${notes}\n`)
}

/** Prints the plan's checks; a failing one stops here unless ignored with a reason, which becomes the job's override. */
function gate(kind: RunKind, plan: CliPlanChecks, args: JobArgs): CheckOverride | null {
  printLine(bold('Checks:'))
  for (const check of plan.checks) printLine(`  ${formatCheck(check)}`)
  const { failing: failed, never } = failing(plan)
  if (failed.length === 0) return null
  const ids = failed.map(c => c.id)
  if (never.length > 0) throw new CliError(`failing checks that cannot be ignored: ${never.map(c => `${c.id}: ${c.message}`).join('; ')}; nothing was changed`)
  if (kind === 'rehearsal') throw new CliError(`failing checks: ${failed.map(c => `${c.id}: ${c.message}`).join('; ')}; ${REHEARSAL_OVERRIDE_REFUSED}; nothing was changed`)
  if (!args['ignore-checks']) throw new CliError(`failing checks: ${failed.map(c => `${c.id}: ${c.message}`).join('; ')}; nothing was changed (fix them, or pass --ignore-checks --reason R)`)
  printLine(yellow(`Ignoring the failing checks ${ids.join(', ')}: ${args.reason}`))
  return { reason: args.reason!, checks: ids }
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

async function situation(): Promise<Situation> {
  const ctx = commandEnv()
  const client = ctx.client()
  const source = releaseSource(ctx)
  const [health, jobs, { releases, index, freshness }] = await Promise.all([client.health(), client.listJobs(HISTORY_LIMIT), listJudgedReleases(source)])
  const runs = runRecordsOfJobs(jobs)
  return { ctx, client, source, installed: installedVersion(health.version), releases, index, freshness, runs, failed: failedReleases(runs), health, jobs }
}

async function runJob(mode: RunKind, args: JobArgs): Promise<void> {
  // Fail before touching anything when the answer could never be given.
  if (mode === 'update' && !args.yes && !process.stdin.isTTY) throw noTerminal()
  const s = await situation()

  let target: Target | null
  const retryFailed = args['try-again']
  if (args.version) target = pickExplicit(s, mode, args.version, retryFailed)
  else if (mode === 'rollback') target = pickRollback(s)
  else target = pickUpgrade(s, mode)
  if (!target) {
    printLine(`${green('✔')} Owlat ${s.installed} is up to date (${s.source.where})${mode === 'rehearsal' ? ': nothing to rehearse' : ''}`)
    return
  }

  // The listing may be older than the files: send only what verifies now.
  const key = releasePublicKey(s.ctx.config)
  const release = await checkRelease(s.source, target.version, key, s.ctx.policy)
  if (!release.ok) throw new CliError(`release ${target.version} failed verification, nothing was changed: ${release.reason}`)
  showPlan(s, target.kind, release.manifest, retryFailed ? s.failed.find(f => f.version === target.version) ?? null : null)
  const channel = channelFor(s.installed, args.version)
  const path = cliPath(target.kind, s.installed, target.version, s.releases, channel)
  if (!path.ok) throw new CliError(`cannot ${doing(target.kind, target.version)}: ${path.reason}`)
  printLine(`Path: ${[s.installed, ...path.path].join(' → ')}${path.path.length > 1 ? ` (required upgrade stops: ${path.path.slice(0, -1).join(', ')})` : ''}`)
  const override = gate(target.kind, cliPlanChecks({
    kind: target.kind,
    targetVersion: target.version,
    health: { ok: true, health: s.health },
    artifacts: { ok: true, artifacts: release.artifacts },
    publicKey: key,
    policy: s.ctx.policy,
    jobs: s.jobs,
    stack: await askStackChecks(s.client, release.artifacts.compose),
    index: s.freshness,
  }), args)
  // Upgrades must be confirmed even in scripts (--yes); an explicit rollback is its own consent
  // outside a terminal, which keeps `owlat rollback --version V` scriptable as pinned, and so is
  // a rehearsal, which changes nothing that runs.
  const question = target.kind === 'rehearsal' ? `Rehearse ${target.version} on a copy of the data now?` : `${doing(target.kind, target.version)[0]!.toUpperCase()}${doing(target.kind, target.version).slice(1)} now?`
  await confirm(question, args.yes, mode === 'update')

  const floors = await floorManifests(s.source, target.kind, s.installed, target.check.undoes, key)
  // Each required stop is sent with its artifacts, verified now like the target.
  const stops = []
  const migrations = new Map<string, ReleaseManifest['migrations']>()
  for (const version of path.path.slice(0, -1)) {
    const stop = await checkRelease(s.source, version, key, s.ctx.policy)
    if (!stop.ok) throw new CliError(`required upgrade stop ${version} failed verification, nothing was changed: ${stop.reason}`)
    stops.push(stop.artifacts)
    migrations.set(version, stop.manifest.migrations)
  }
  migrations.set(target.version, release.manifest.migrations)
  if (!s.index) throw new CliError(`cannot ${doing(target.kind, target.version)}: ${s.freshness.error ?? 'the release source serves no signed release index'}`)
  const request = jobRequestFor(release.artifacts, {
    runId: null,
    kind: target.kind,
    requestedBy: cliRequester(),
    channel,
    retryFailed,
    override,
    index: s.index,
  }, floors, stops)
  let jobId: string
  try {
    ({ jobId } = await s.client.createJob(request))
  }
  catch (err) {
    if (err instanceof SidecarRejectedError && err.status === 409) {
      throw new CliError(`the updater is busy: ${err.detail ?? 'a job is active'}; see owlat status`)
    }
    throw err
  }
  const accepted = target.kind === 'rehearsal'
    ? `${describeJob({ kind: 'rehearsal', fromVersion: s.installed, toVersion: target.version, path: path.path.length > 1 ? path.path : null })} on a copy of the data`
    : `${target.kind} ${s.installed} → ${target.version}`
  printLine(`Job ${jobId} accepted: ${accepted}. Ctrl-C detaches; the job keeps running.`)

  const printer = new JobPrinter()
  const job = await followWithDetach(jobId, signal => followJob(s.client, jobId, printer, { signal }))
  if (job.kind === 'rehearsal') return rehearsalEnded(s, job, migrations)
  if (job.status !== 'succeeded') {
    printFailure(job)
    throw new CliError(`${outcome(job)} (details: owlat logs --job ${job.id})`)
  }
  printLine(`${green('✔')} Owlat now runs ${job.toVersion}`)
}

/** The rehearsal's report, then what runs now; a failed rehearsal says why and exits non-zero. */
async function rehearsalEnded(s: Situation, job: Job, migrations: ReadonlyMap<string, ReleaseManifest['migrations']>): Promise<void> {
  printRehearsalReport(job, migrations)
  if (job.status !== 'succeeded') {
    printFailure(job)
    throw new CliError(`${outcome(job)} (details: owlat logs --job ${job.id})`)
  }
  const health = await s.client.health()
  printLine(health.version === s.installed
    ? `${green('✔')} ${job.toVersion} passed its rehearsal; Owlat still runs ${health.version}. To install it: owlat upgrade --version ${job.toVersion}`
    : yellow(`${job.toVersion} passed its rehearsal, but the updater now reports ${health.version} (was ${s.installed}): see owlat history`))
}

export const upgradeCommand = defineCommand({
  meta: { name: 'upgrade', description: 'Update to the newest release (or --version V) and follow it live; --rehearse tries it on a copy of the data first' },
  args: upgradeArgs,
  async run(ctx) {
    const { rehearse, ...args } = validateArgs(ctx, upgradeArgs, upgradeArgsSchema)
    await runJob(rehearse ? 'rehearsal' : 'update', args)
  },
})

export const rollbackCommand = defineCommand({
  meta: { name: 'rollback', description: 'Roll back to the newest verified older release (or --version V)' },
  args: jobArgs,
  async run(ctx) {
    if ((ctx.args as Record<string, unknown>).rehearse !== undefined) throw usageError('only an update can be rehearsed: owlat upgrade --rehearse [--version V]')
    await runJob('rollback', validateArgs(ctx, jobArgs, jobArgsSchema))
  },
})
