/**
 * `owlat doctor`: the environment checks an operator runs first when something is off. Each
 * check ends `ok`, `warn`, `fail` or `skip` (could not run here, and why) with a one-line fix;
 * any `fail` makes the exit code 1. Beyond the updater's own (reachable, clock, policy, disk,
 * releases, secrets) it runs the stack checks of shared/node/checks on the installed stack,
 * the very ones an update's preflight runs, and the network checks only doctor makes.
 */
import { existsSync, readFileSync } from 'node:fs'
import { statfs } from 'node:fs/promises'
import { join } from 'node:path'
import { defineCommand, type ArgsDef } from 'citty'
import Docker from 'dockerode'
import { z } from 'zod'
import { checkComposePolicy } from '../../shared/compose-policy'
import {
  checkDkimKeys, checkPtr, checkSiteDns, checkSmtpEgress, fail as failCheck, formatCheck, ok as okCheck, parseStackModel, skip as skipCheck, stackChecks,
  warn as warnCheck, type Check, type StackModel,
} from '../../shared/node/checks'
import { MIN_SECRET_LENGTH, SECRET_KEY, secretWeakness } from '../../shared/node/checks/secrets'
import { BUNDLE_LOG_LINES, BUNDLE_RUNS, secretValues, writeBundle } from '../../shared/node/bundle'
import { MAX_SKEW_MS } from '../../shared/request-signing'
import type { SidecarHealth } from '../../shared/schemas/job'
import type { Release } from '../../shared/schemas/release'
import { validateArgs } from '../args'
import { commandEnv, type CommandEnv } from '../context'
import { dotenvPath, readDotenv } from '../env'
import { CliError } from '../errors'
import { printLine } from '../job-view'
import { checkRelease, listReleases, releaseSource } from '../releases'
import { SidecarRejectedError, type SidecarClient } from '../../shared/sidecar-client'
import { ComposeCli, detectCompose, overrideFile } from '../../sidecar/drivers/compose-cli'
import { renderComposeConfig } from '../../sidecar/drivers/compose-config'
import { activeProfiles, deploySteps, parseComposeModel, projectName, withOverride, type ComposeModel } from '../../sidecar/drivers/compose-project'
import { describeSidecarFailure, isSidecarFailure, sidecarFailureKind } from '../sidecar'
import { cliPath, cliPlanChecks } from '../plan'
import { isPrerelease, isVersion, newestApplicable, type Channel } from '../../shared/version'

export type CheckResult = Check
export { formatCheck, MIN_SECRET_LENGTH, secretWeakness }

const GiB = 1024 ** 3
export const DISK_FAIL_BYTES = 1 * GiB
export const DISK_WARN_BYTES = 5 * GiB
/** Beyond this the clocks drift into the signature window (MAX_SKEW_MS) soon; at it, requests fail. */
export const CLOCK_WARN_MS = 5_000
/** Compose's own lookup order for the default file. */
export const COMPOSE_FILES = ['compose.yaml', 'compose.yml', 'docker-compose.yaml', 'docker-compose.yml']

const ok = (id: string, message: string): CheckResult => okCheck(id, message)
const warn = (id: string, message: string, fix: string): CheckResult => warnCheck(id, message, fix)
const fail = (id: string, message: string, fix: string): CheckResult => failCheck(id, message, fix)

async function checkUpdater(ctx: CommandEnv): Promise<{ result: CheckResult, health: SidecarHealth | null, client: SidecarClient | null }> {
  let client: SidecarClient
  try {
    client = ctx.client()
  }
  catch (err) {
    return { result: fail('updater', (err as Error).message, 'set OWLAT_INSTANCE_SECRET to the secret the updater uses'), health: null, client: null }
  }
  try {
    const health = await client.health()
    return { result: ok('updater', `reachable at ${client.url}, secret accepted (Owlat ${health.version}, ${health.driver} driver)`), health, client }
  }
  catch (err) {
    if (!isSidecarFailure(err)) throw err
    const kind = sidecarFailureKind(err)
    const fix = kind === 'unreachable'
      ? 'start the updater (docker compose up -d updater, or npm start), or set OWLAT_UPDATER_URL to where it listens'
      : kind === 'unauthorized'
        ? (err instanceof SidecarRejectedError && err.detail?.includes('stale')
            ? 'the clocks differ too much: sync this machine and the updater with NTP'
            : 'set OWLAT_INSTANCE_SECRET (or OWLAT_DIR/.env) to the secret the updater was started with')
        : 'look at the updater\'s own log: owlat logs updater'
    return { result: fail('updater', describeSidecarFailure(err), fix), health: null, client }
  }
}

function checkClock(client: SidecarClient | null): CheckResult {
  const sample = client?.lastClock
  if (!sample) return skipCheck('clock', 'skipped: the updater did not answer')
  // The Date header has whole seconds: up to a second of difference is rounding, not skew.
  const skew = Math.max(0, Math.abs(sample.local - sample.server) - 1000)
  const seconds = Math.round(skew / 1000)
  if (skew >= MAX_SKEW_MS / 2) {
    return fail('clock', `this machine's clock is ${seconds} s off the updater's; signed requests expire after ${MAX_SKEW_MS / 1000} s`, 'sync both clocks with NTP (timedatectl set-ntp true)')
  }
  if (skew >= CLOCK_WARN_MS) return warn('clock', `this machine's clock is ${seconds} s off the updater's`, 'sync both clocks with NTP (timedatectl set-ntp true)')
  return ok('clock', 'in step with the updater')
}

function checkCompose(ctx: CommandEnv, health: SidecarHealth | null): CheckResult {
  const driver = health?.driver ?? ctx.config.driver
  if (driver === 'local') {
    return skipCheck('compose', 'skipped: the local driver runs no compose file')
  }
  const dir = ctx.config.owlatDir
  const file = COMPOSE_FILES.map(name => join(dir, name)).find(path => existsSync(path))
  if (!file) return fail('compose', `no compose file in ${dir}`, 'set OWLAT_DIR to the compose project folder')
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  }
  catch (err) {
    return fail('compose', `cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`, 'run doctor as a user who can read the project folder')
  }
  const result = checkComposePolicy(text, ctx.policy)
  if (result.ok) return ok('compose', `${file} passes the compose policy`)
  return fail('compose', `${file}: ${result.violations.length} policy violation(s), first: ${result.violations[0]}`, `run owlat compose check ${file} to list them all`)
}

async function checkDisk(ctx: CommandEnv): Promise<CheckResult> {
  const dir = ctx.config.dataDir
  let free: number
  try {
    const stats = await statfs(dir)
    free = stats.bavail * stats.bsize
  }
  catch (err) {
    return fail('disk', `cannot inspect the data dir ${dir} (${(err as NodeJS.ErrnoException).code ?? 'error'})`, 'set OWLAT_DATA_DIR to the data folder, or start the stack once to create it')
  }
  const gib = (free / GiB).toFixed(1)
  if (free < DISK_FAIL_BYTES) return fail('disk', `only ${gib} GiB free for ${dir}`, 'free space (docker system prune, old backups) before updating')
  if (free < DISK_WARN_BYTES) return warn('disk', `${gib} GiB free for ${dir}`, 'free space soon: an update pulls new images and takes a backup')
  return ok('disk', `${gib} GiB free for ${dir}`)
}

async function checkReleases(ctx: CommandEnv): Promise<CheckResult> {
  const source = releaseSource(ctx)
  let releases: Release[]
  let key: string
  try {
    key = ctx.config.releasePublicKey()
    releases = await listReleases(source)
  }
  catch (err) {
    const fix = ctx.config.releaseSource === 'github'
      ? 'check OWLAT_GITHUB_REPO, OWLAT_GITHUB_API_URL, OWLAT_GITHUB_TOKEN and OWLAT_RELEASE_PUBLIC_KEY'
      : 'set OWLAT_RELEASE_DIR and OWLAT_RELEASE_PUBLIC_KEY'
    return fail('releases', (err as Error).message, fix)
  }
  const newest = releases[0]?.version
  if (!newest) return fail('releases', `no releases (${source.where})`, 'publish or copy the release artifacts, or point OWLAT_RELEASE_SOURCE at where they are')
  const check = await checkRelease(source, newest, key, ctx.policy)
  if (!check.ok) return fail('releases', `the newest release ${newest} does not verify: ${check.reason}`, `do not install it; publish or copy its artifacts again (${source.where})`)
  return ok('releases', `${releases.length} release(s) (${source.where}); the newest, ${newest}, verifies`)
}

function checkSecrets(ctx: CommandEnv): CheckResult {
  const problems: Array<{ level: 'warn' | 'fail', text: string }> = []
  let instance: string | null = null
  try {
    instance = ctx.config.instanceSecret()
  }
  catch {
    problems.push({ level: 'fail', text: 'OWLAT_INSTANCE_SECRET is not set' })
  }
  if (instance !== null) {
    const weak = secretWeakness(instance)
    if (weak) problems.push({ level: weak.level, text: `OWLAT_INSTANCE_SECRET ${weak.why}` })
  }
  // The project's .env holds the stack's other secrets (Convex, Redis, MTA); names only, never values.
  const file = dotenvPath(ctx.env)
  let fromFile: Record<string, string> = {}
  try {
    fromFile = readDotenv(file)
  }
  catch (err) {
    problems.push({ level: 'warn', text: (err as Error).message })
  }
  for (const [key, value] of Object.entries(fromFile)) {
    if (key === 'OWLAT_INSTANCE_SECRET' || !SECRET_KEY.test(key)) continue
    const weak = secretWeakness(value)
    if (weak) problems.push({ level: weak.level, text: `${key} in ${file} ${weak.why}` })
  }
  if (problems.length === 0) return ok('secrets', 'no empty, placeholder or short secrets')
  const level = problems.some(p => p.level === 'fail') ? 'fail' : 'warn'
  const text = problems.map(p => p.text).join('; ')
  return level === 'fail'
    ? fail('secrets', text, 'generate real ones (openssl rand -hex 32) and restart the stack')
    : warn('secrets', text, 'use longer random values (openssl rand -hex 32)')
}

function composeFile(dir: string): string | null {
  return COMPOSE_FILES.map(name => join(dir, name)).find(path => existsSync(path)) ?? null
}

/** An engine client when one answers (DOCKER_HOST or the local socket), else null. */
async function engine(): Promise<Docker | null> {
  const docker = new Docker()
  return docker.ping().then(() => docker, () => null)
}

/**
 * The installed stack as compose runs it (`compose config`, the operator's override included);
 * where no compose CLI can render it, the file read as text with `.env` filled in.
 */
async function stackModel(ctx: CommandEnv, file: string, project: string, dotenv: Record<string, string>): Promise<{ model: StackModel, check: Check }> {
  try {
    const command = await detectCompose(ctx.env.OWLAT_COMPOSE_CMD)
    const cli = new ComposeCli({ command, project, projectDir: ctx.config.owlatDir, pidFile: join(ctx.config.dataDir, 'doctor-compose.pid') })
    const text = await renderComposeConfig(cli, file, undefined, { override: true })
    return { model: parseStackModel(text), check: ok('compose-render', `${command.argv.join(' ')} ${command.version} renders ${file}; the checks below judge what it runs`) }
  }
  catch (err) {
    const model = parseStackModel(readFileSync(file, 'utf8'), { ...dotenv, ...ctx.env })
    return { model, check: warn('compose-render', `compose did not render ${file} (${(err as Error).message.split('\n')[0]}); the checks below read the file as text`, 'run doctor where docker compose works (inside the updater: docker compose exec updater owlat doctor)') }
  }
}

/** The stack checks an update's preflight runs, on the installed stack, and the network checks only doctor makes. */
async function stackSection(ctx: CommandEnv, health: SidecarHealth | null): Promise<Check[]> {
  if ((health?.driver ?? ctx.config.driver) === 'local') return [skipCheck('stack', 'the local driver runs no compose stack')]
  const file = composeFile(ctx.config.owlatDir)
  if (!file) return []
  const dotenv = readDotenv(dotenvPath(ctx.env))
  let composeModel: ComposeModel
  try {
    composeModel = withOverride(parseComposeModel(readFileSync(file, 'utf8')), (() => {
      const override = overrideFile(ctx.config.owlatDir)
      return override ? readFileSync(override, 'utf8') : null
    })())
  }
  catch (err) {
    return [fail('stack', (err as Error).message, `fix ${file}`)]
  }
  const project = projectName(composeModel, ctx.config.owlatDir)
  const { model, check } = await stackModel(ctx, file, project, dotenv)
  let deployServices: string[] = []
  const checks: Check[] = [check]
  try {
    deployServices = deploySteps(composeModel, activeProfiles({ ...dotenv, ...ctx.env })).steps.map(step => step.service)
  }
  catch (err) {
    checks.push(fail('deploy-steps', (err as Error).message, 'fix the labels of the deploy one-shots in the compose file'))
  }
  const docker = await engine()
  let secret: Record<string, string> = {}
  try {
    secret = { OWLAT_INSTANCE_SECRET: ctx.config.instanceSecret() }
  }
  catch {
    // None: the secrets check above already fails, and so does this one.
  }
  checks.push(...await stackChecks({
    model,
    dotenv: { ...dotenv, ...secret },
    project,
    owlatDir: ctx.config.owlatDir,
    docker,
    roles: { convex: ctx.env.OWLAT_CONVEX_SERVICE, web: ctx.env.OWLAT_WEB_SERVICE },
    deployServices,
  }))
  // Network: each says when it cannot run here.
  const env = (key: string) => model.services.map(s => s.environment[key]).find(v => v !== undefined) ?? dotenv[key]
  checks.push(await checkSiteDns(env('NUXT_PUBLIC_SITE_URL')))
  checks.push(await checkSmtpEgress())
  checks.push(await checkPtr(env('MTA_EHLO_HOSTNAME') ?? env('EHLO_HOSTNAME') ?? env('MTA_HOSTNAME')))
  checks.push(checkDkimKeys(model, dotenv))
  checks.push(env('MTA_API_KEY') === undefined
    ? skipCheck('mta-api-key', 'the stack sets no MTA_API_KEY (no MTA)')
    : skipCheck('mta-api-key', 'cannot read Convex\'s environment variables from here: compare with docker compose --profile deploy run --rm convex-deploy npx convex env get MTA_API_KEY'))
  return checks
}

/**
 * The plan's checks (the ones the web's plan, `owlat upgrade` and the updater's preflight run) for
 * an update to the newest release this instance would be offered, with its path.
 */
async function planSection(ctx: CommandEnv, client: SidecarClient | null, health: SidecarHealth | null): Promise<{ heading: string | null, checks: Check[] }> {
  if (!client || !health) return { heading: null, checks: [skipCheck('plan', 'skipped: the updater did not answer')] }
  if (!isVersion(health.version)) return { heading: null, checks: [skipCheck('plan', `the updater reports version ${health.version}, not a release: no update to plan`)] }
  const source = releaseSource(ctx)
  let releases: Release[]
  let key: string
  try {
    key = ctx.config.releasePublicKey()
    releases = await listReleases(source)
  }
  catch {
    return { heading: null, checks: [skipCheck('plan', 'skipped: the releases cannot be read (see the releases check)')] }
  }
  const channel: Channel = isPrerelease(health.version) ? 'beta' : 'stable'
  const target = newestApplicable(releases.filter(r => r.verified), health.version, channel)
  if (!target) return { heading: null, checks: [okCheck('plan', `no update to plan: ${health.version} is the newest verified release on the ${channel} channel`)] }
  const path = cliPath('update', health.version, target.version, releases, channel)
  const artifacts = await source.getArtifacts(target.version).then(a => ({ ok: true as const, artifacts: a }), (err: Error) => ({ ok: false as const, error: err.message }))
  const jobs = await client.listJobs(10).catch(() => [])
  // Doctor judges the installed stack itself (stackChecks above); the plan adds the release's checks.
  const { checks } = cliPlanChecks({ kind: 'update', targetVersion: target.version, health: { ok: true, health }, artifacts, publicKey: key, policy: ctx.policy, jobs })
  if (!path.ok) checks.push(failCheck('upgrade-path', path.reason, 'make the releases on the way available, or update to a nearer release with owlat upgrade --version V'))
  const heading = `plan for an update to ${target.version}${path.ok ? ` (path ${[health.version, ...path.path].join(' → ')})` : ''}:`
  return { heading, checks }
}

/** Runs the bundle part that fails as a note in the bundle, never as doctor's failure. */
async function part(run: () => Promise<string>): Promise<string> {
  try {
    return await run()
  }
  catch (err) {
    return `unavailable: ${(err as Error).message}\n`
  }
}

/**
 * The seed's "Reporting an update bug" set: doctor's output, ps, the last log lines per
 * service, the compose file, the last runs with their logs; every secret masked.
 */
async function writeDoctorBundle(ctx: CommandEnv, file: string, doctorLines: string[], client: SidecarClient | null, health: SidecarHealth | null): Promise<void> {
  const files: Record<string, string> = { 'doctor.txt': `${doctorLines.join('\n')}\n` }
  const compose = composeFile(ctx.config.owlatDir)
  const override = overrideFile(ctx.config.owlatDir)
  const composeTexts: string[] = []
  for (const path of [compose, override].filter((p): p is string => p !== null)) {
    const text = await part(async () => readFileSync(path, 'utf8'))
    composeTexts.push(text)
    files[path.slice(path.lastIndexOf('/') + 1)] = text
  }
  files['ps.txt'] = health
    ? `${['SERVICE', 'IMAGE', 'STATE', 'HEALTH'].join('\t')}\n${health.services.map(sv => [sv.name, sv.image, sv.state, sv.health].join('\t')).join('\n')}\n`
    : 'unavailable: the updater did not answer\n'
  for (const service of health?.services ?? []) {
    files[`logs/${service.name}.txt`] = await part(async () => `${(await client!.serviceLogs(service.name, BUNDLE_LOG_LINES)).map(e => e.line).join('\n')}\n`)
  }
  files['runs.json'] = client && health
    ? await part(async () => `${JSON.stringify(await client.listJobs(BUNDLE_RUNS), null, 2)}\n`)
    : 'unavailable: the updater did not answer\n'
  const dotenv = readDotenv(dotenvPath(ctx.env))
  const serviceEnvs = composeTexts.flatMap((text) => {
    try {
      return parseStackModel(text, { ...dotenv, ...ctx.env }).services.map(sv => sv.environment)
    }
    catch {
      return []
    }
  })
  let instance: string | null = null
  try {
    instance = ctx.config.instanceSecret()
  }
  catch {
    // None to mask.
  }
  const secrets = secretValues([dotenv, ctx.env, ...serviceEnvs], [instance, ctx.config.convex?.adminKey, dotenv.CONVEX_ADMIN_KEY, dotenv.NUXT_SESSION_PASSWORD, ctx.env.NUXT_SESSION_PASSWORD])
  await writeBundle(file, files, secrets)
}

const doctorArgs = {
  bundle: { type: 'string', description: 'Also write a bug-report bundle (.tar.gz, secrets masked) to FILE', valueHint: 'FILE' },
} satisfies ArgsDef

export const doctorCommand = defineCommand({
  meta: { name: 'doctor', description: 'Check the updater, clocks, compose file, disk, releases, secrets, the stack and the network' },
  args: doctorArgs,
  async run(ctx) {
    const args = validateArgs(ctx, doctorArgs, z.object({
      bundle: z.string().min(1).refine(v => !v.endsWith('/'), 'must name a file, not a folder').optional(),
    }))
    const env = commandEnv()
    const results: CheckResult[] = []
    const lines: string[] = []
    const report = (check: CheckResult) => {
      results.push(check)
      lines.push(formatCheck(check))
      printLine(formatCheck(check))
    }
    const updater = await checkUpdater(env)
    report(updater.result)
    report(checkClock(updater.client))
    report(checkCompose(env, updater.health))
    report(await checkDisk(env))
    report(await checkReleases(env))
    report(checkSecrets(env))
    for (const check of await stackSection(env, updater.health)) report(check)
    const plan = await planSection(env, updater.client, updater.health)
    if (plan.heading) {
      lines.push(plan.heading)
      printLine(plan.heading)
    }
    for (const check of plan.checks) report(check)
    const failed = results.filter(r => r.status === 'fail').map(r => r.id)
    const summary = failed.length > 0 ? `doctor: ${failed.length} check(s) failed: ${failed.join(', ')}` : null
    if (args.bundle) {
      if (summary) lines.push(summary)
      await writeDoctorBundle(env, args.bundle, lines, updater.client, updater.health)
      printLine(`bug-report bundle written to ${args.bundle} (secrets masked)`)
    }
    if (summary) throw new CliError(summary)
  },
})
