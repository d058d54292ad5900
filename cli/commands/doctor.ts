/**
 * `owlat doctor`: the environment checks an operator runs first when something is off. Each
 * check ends `ok`, `warn` or `fail` with a one-line fix; any `fail` makes the exit code 1.
 */
import { existsSync, readFileSync } from 'node:fs'
import { statfs } from 'node:fs/promises'
import { join } from 'node:path'
import { defineCommand, type ArgsDef } from 'citty'
import { z } from 'zod'
import { checkComposePolicy } from '../../shared/compose-policy'
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
import { describeSidecarFailure, isSidecarFailure, sidecarFailureKind } from '../sidecar'

export type CheckLevel = 'ok' | 'warn' | 'fail'

export interface CheckResult {
  name: string
  level: CheckLevel
  message: string
  /** What to do about it; required for warn and fail. */
  fix?: string
}

const GiB = 1024 ** 3
export const DISK_FAIL_BYTES = 1 * GiB
export const DISK_WARN_BYTES = 5 * GiB
/** Beyond this the clocks drift into the signature window (MAX_SKEW_MS) soon; at it, requests fail. */
export const CLOCK_WARN_MS = 5_000
/** Compose's own lookup order for the default file. */
const COMPOSE_FILES = ['compose.yaml', 'compose.yml', 'docker-compose.yaml', 'docker-compose.yml']
/** Secrets people leave in place from examples and tutorials. */
const PLACEHOLDER = /^(?:change[-_]?me.*|secret|password|passw0rd|owlat|example|default|admin|test|todo|x+|0+|1234.*|your[-_].*|<.*>|replace[-_]?me.*)$/i
const SECRET_KEY = /(?:SECRET|PASSWORD|TOKEN|API_KEY|ADMIN_KEY)$/
export const MIN_SECRET_LENGTH = 32

const ok = (name: string, message: string): CheckResult => ({ name, level: 'ok', message })
const warn = (name: string, message: string, fix: string): CheckResult => ({ name, level: 'warn', message, fix })
const fail = (name: string, message: string, fix: string): CheckResult => ({ name, level: 'fail', message, fix })

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
  if (!sample) return warn('clock', 'skipped: the updater did not answer', 'fix the updater check first')
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
    return warn('compose', 'skipped: the local driver runs no compose file', 'nothing to do for the embedded stack; production runs with OWLAT_DRIVER=compose')
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

/** Why a secret is weak, or null. */
export function secretWeakness(value: string): { level: 'warn' | 'fail', why: string } | null {
  const v = value.trim()
  if (v === '') return { level: 'fail', why: 'is empty' }
  if (PLACEHOLDER.test(v)) return { level: 'fail', why: 'is a placeholder' }
  if (new Set(v).size < 8) return { level: 'fail', why: 'is too repetitive to be random' }
  if (v.length < MIN_SECRET_LENGTH) return { level: 'warn', why: `is shorter than ${MIN_SECRET_LENGTH} characters` }
  return null
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

const SYMBOL: Record<CheckLevel, string> = { ok: '✔', warn: '!', fail: '✖' }

export function formatCheck(check: CheckResult): string {
  return `${SYMBOL[check.level]} ${check.level.padEnd(4)} ${check.name.padEnd(9)} ${check.message}${check.fix ? ` → ${check.fix}` : ''}`
}

const doctorArgs = {} satisfies ArgsDef

export const doctorCommand = defineCommand({
  meta: { name: 'doctor', description: 'Check the updater, clocks, compose file, disk, releases and secrets' },
  args: doctorArgs,
  async run(ctx) {
    validateArgs(ctx, doctorArgs, z.object({}))
    const env = commandEnv()
    const results: CheckResult[] = []
    const report = (check: CheckResult) => {
      results.push(check)
      printLine(formatCheck(check))
    }
    const updater = await checkUpdater(env)
    report(updater.result)
    report(checkClock(updater.client))
    report(checkCompose(env, updater.health))
    report(await checkDisk(env))
    report(await checkReleases(env))
    report(checkSecrets(env))
    const failed = results.filter(r => r.level === 'fail').map(r => r.name)
    if (failed.length > 0) throw new CliError(`doctor: ${failed.length} check(s) failed: ${failed.join(', ')}`)
  },
})
