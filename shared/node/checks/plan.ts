/**
 * The plan's checks: what must hold before an update or a rollback starts. The web judges them
 * for the plan (and refuses a run with a failing one unless the admin overrides it with a
 * reason), `owlat doctor` and `owlat upgrade` print them, and the updater's `preflight` judges
 * them again on its own facts. Each gatherer collects facts where it runs; `planChecks` judges
 * them, the same way everywhere. Every check here blocks on `fail`. Node only.
 */
import { formatBytes } from '../../format-bytes'
import { statfs } from 'node:fs/promises'
import semver from 'semver'
import { z } from 'zod'
import type { ReleaseManifest } from '../../schemas/release'
import type { DiskFacts, SidecarHealth } from '../../schemas/job'
import { SidecarRejectedError, type SidecarClient } from '../../sidecar-client'
import { fail, ok, warn, type Check } from './types'

export type { DiskFacts, HostFacts } from '../../schemas/job'

/** The checks' ids, in the order they are listed. */
export const PLAN_CHECK_IDS = ['updater', 'services', 'free-disk', 'host-versions', 'compose-policy', 'release-verifies', 'no-active-run'] as const
export type PlanCheckId = typeof PLAN_CHECK_IDS[number]

export type Verdict = { ok: true } | { ok: false, reason: string }

export interface PlanFacts {
  kind: 'update' | 'rollback' | 'rehearsal'
  targetVersion: string
  /** The updater as asked just now: its health (with its host facts when it reports them), or why it did not answer. */
  updater: { ok: true, health: SidecarHealth } | { ok: false, error: string }
  /** The target's manifest requirements; null when the manifest could not be read. */
  requires: ReleaseManifest['requires'] | null
  /** Signature and compose sha256 of the target's artifacts. */
  verification: Verdict
  /** The compose policy on the target's compose file. */
  policy: Verdict
  /** The run (or job) in progress, if any. */
  active: { id: string, kind: string, toVersion: string } | null
}

/** `free-disk` warns when an update would leave less than this share of the disk free. */
export const FREE_DISK_WARN_FRACTION = 0.1

/** `27.3.1`, `v2.29.7-desktop.1`, `1.29.2, build 5becea4c` → comparable semver; null when unreadable. */
export function looseVersion(text: string | null | undefined): string | null {
  return text ? semver.coerce(text)?.version ?? null : null
}

export function checkUpdater(facts: PlanFacts): Check {
  const id = 'updater'
  if (!facts.updater.ok) return fail(id, `the updater does not answer: ${facts.updater.error}`, 'start the updater (owlat status; docker compose up -d updater) and check OWLAT_UPDATER_URL and OWLAT_INSTANCE_SECRET', true)
  const host = facts.updater.health.host
  const needed = facts.requires?.updater
  if (!host) {
    if (needed) return fail(id, `the updater answers but does not report its version; ${facts.targetVersion} needs updater ${needed} or newer`, 'update the updater first (docker compose pull updater && docker compose up -d updater)', true)
    return warn(id, 'the updater answers but is too old to report its version and host', 'update the updater (docker compose pull updater && docker compose up -d updater) to see every check', true)
  }
  const have = looseVersion(host.updater)
  if (needed && (!have || semver.lt(have, needed))) {
    return fail(id, `the updater is ${host.updater}; ${facts.targetVersion} needs updater ${needed} or newer`, `update the updater first (docker compose pull updater && docker compose up -d updater), then plan again`, true)
  }
  return ok(id, `the updater ${host.updater} (${facts.updater.health.driver} driver) answers${needed ? `; ${facts.targetVersion} needs ${needed} or newer` : ''}`, true)
}

export function checkServices(facts: PlanFacts): Check {
  const id = 'services'
  if (!facts.updater.ok) return fail(id, 'cannot tell: the updater does not answer', 'start the updater, then plan again', true)
  const services = facts.updater.health.services
  if (services.length === 0) return fail(id, 'the updater reports no running service', 'bring the stack up (docker compose up -d), then plan again', true)
  const down = services.filter(s => s.health === 'unhealthy' || (s.state !== 'running' && s.health !== 'starting'))
  const starting = services.filter(s => s.health === 'starting')
  const names = (list: typeof services) => list.map(s => `${s.name} (${s.health === 'none' ? s.state : s.health})`).join(', ')
  if (down.length > 0) {
    const message = `not healthy: ${names(down)}`
    // Rolling back is how an admin leaves a broken version: an unhealthy stack must not stop it.
    if (facts.kind === 'rollback') return warn(id, `${message}; a rollback may be the way out`, 'look at owlat logs SERVICE for why', true)
    return fail(id, message, 'fix the failing service first (owlat logs SERVICE), or roll back', true)
  }
  if (starting.length > 0) return warn(id, `still starting: ${names(starting)}`, 'wait until every service is healthy, then plan again', true)
  return ok(id, `every service is healthy (${services.map(s => s.name).join(', ')})`, true)
}

export function checkFreeDisk(facts: PlanFacts): Check {
  const id = 'free-disk'
  if (!facts.updater.ok) return fail(id, 'cannot tell: the updater does not answer', 'start the updater, then plan again', true)
  const disk = facts.updater.health.host?.disk
  if (!disk) return warn(id, 'the updater does not report its free disk space', 'check df -h on the host: the update pulls images and writes a backup', true)
  const figures = `${formatBytes(disk.freeBytes)} free of ${formatBytes(disk.totalBytes)} in ${disk.path}`
  // A rehearsal also holds a copy of the data until its teardown.
  const copy = disk.copyBytes ?? 0
  const rehearsal = facts.kind === 'rehearsal'
  const need = rehearsal ? disk.needBytes + copy : disk.needBytes
  const what = rehearsal ? `the new images, the backup and the rehearsal's copy of the data (${formatBytes(copy)})` : 'the new images and the backup'
  if (disk.freeBytes < need) {
    return fail(id, `${figures}; ${what} need ${formatBytes(need)}`, 'free space (docker image prune, old backups under OWLAT_DIR/backups) or grow the disk; never delete the convex-data volume', true)
  }
  if (disk.freeBytes - need < disk.totalBytes * FREE_DISK_WARN_FRACTION) {
    return warn(id, `${figures}; after the ${rehearsal ? 'rehearsal' : 'update'}'s ${formatBytes(need)} less than ${FREE_DISK_WARN_FRACTION * 100} % would be left`, 'free space soon (docker image prune, old backups)', true)
  }
  const rehearsalNote = !rehearsal && disk.copyBytes !== undefined ? `; a rehearsal first needs ${formatBytes(need + copy)} (a copy of the data)` : ''
  return ok(id, `${figures}; the ${rehearsal ? 'rehearsal' : 'update'} needs about ${formatBytes(need)}${rehearsalNote}`, true)
}

export function checkHostVersions(facts: PlanFacts): Check {
  const id = 'host-versions'
  const wanted = { engine: facts.requires?.engine, compose: facts.requires?.compose }
  if (!wanted.engine && !wanted.compose) {
    if (facts.requires === null) return warn(id, `cannot read what ${facts.targetVersion} asks of the host (its manifest is unreadable)`, 'see the release-verifies check', true)
    return ok(id, `${facts.targetVersion} asks for no particular engine or compose version`, true)
  }
  if (!facts.updater.ok) return fail(id, 'cannot tell: the updater does not answer', 'start the updater, then plan again', true)
  const host = facts.updater.health.host
  const problems: string[] = []
  const unknown: string[] = []
  const found: string[] = []
  for (const [what, label] of [['engine', 'the container engine'], ['compose', 'compose']] as const) {
    const needed = wanted[what]
    if (!needed) continue
    const reported = host?.[what] ?? null
    const have = looseVersion(reported)
    if (!have) unknown.push(`${label} (${facts.targetVersion} needs ${needed} or newer)`)
    else if (semver.lt(have, needed)) problems.push(`${label} is ${reported}; ${facts.targetVersion} needs ${needed} or newer`)
    else found.push(`${label} ${reported} (needs ${needed})`)
  }
  if (problems.length > 0) return fail(id, problems.join('; '), 'upgrade Docker Engine and the compose plugin on the host (https://docs.docker.com/engine/install/), then plan again', true)
  if (unknown.length > 0) return warn(id, `cannot tell the version of ${unknown.join(', ')}${host ? ` with the ${facts.updater.health.driver} driver` : ''}`, 'check docker version and docker compose version on the host', true)
  return ok(id, found.join(', '), true)
}

export function checkPolicy(facts: PlanFacts): Check {
  const id = 'compose-policy'
  if (!facts.policy.ok) return fail(id, `the compose file of ${facts.targetVersion} breaks the compose policy: ${facts.policy.reason}`, 'do not install this release; report it to its publisher', true)
  return ok(id, `the compose file of ${facts.targetVersion} passes the compose policy`, true)
}

export function checkVerification(facts: PlanFacts): Check {
  const id = 'release-verifies'
  if (!facts.verification.ok) return fail(id, `${facts.targetVersion} does not verify: ${facts.verification.reason}`, 'download the release again (Check now) or check OWLAT_RELEASE_PUBLIC_KEY; never install an unverified release', true)
  return ok(id, `${facts.targetVersion}'s signature and compose sha256 verify`, true)
}

export function checkNoActiveRun(facts: PlanFacts): Check {
  const id = 'no-active-run'
  if (facts.active) return fail(id, `${facts.active.kind} ${facts.active.id} to ${facts.active.toVersion} is still in progress`, 'wait for it to end (its page, or owlat status)', true)
  return ok(id, 'no update, rollback or rehearsal is in progress', true)
}

/** Every plan check, in `PLAN_CHECK_IDS` order. */
export function planChecks(facts: PlanFacts): Check[] {
  return [checkUpdater(facts), checkServices(facts), checkFreeDisk(facts), checkHostVersions(facts), checkPolicy(facts), checkVerification(facts), checkNoActiveRun(facts)]
}

/** The checks that stop a run unless overridden: every `fail`. */
export function failingChecks(checks: readonly Check[]): Check[] {
  return checks.filter(c => c.status === 'fail')
}

/** Failures no override lets through: an unverified release or one the compose policy refuses never installs. */
export const NEVER_IGNORED: ReadonlySet<string> = new Set<PlanCheckId>(['compose-policy', 'release-verifies'])

/**
 * The updater's stack checks (`POST /v1/checks`) on the compose file a run would apply, as plan
 * checks. A blocking failure stays a failure no override lets through: the updater's preflight
 * refuses it whatever the admin ticks. Any other failure is a warning there, so it is one here;
 * what could not be judged (`skip`) says nothing about this run. An updater that cannot be asked
 * leaves one warning: its preflight judges the stack anyway.
 */
export type StackAnswer = { ok: true, checks: Check[] | null } | { ok: false, error: string }

/** Asks the updater for its stack checks on `compose`; never throws (an updater that cannot answer leaves a warning). */
export async function askStackChecks(client: Pick<SidecarClient, 'stackChecks'>, compose: string): Promise<StackAnswer> {
  try {
    return { ok: true, checks: await client.stackChecks(compose) }
  }
  catch (err) {
    // An updater from before `POST /v1/checks` judges the stack in its preflight only.
    if (err instanceof SidecarRejectedError && err.status === 404) return { ok: false, error: 'this updater is too old to judge the stack before a run (update the updater)' }
    return { ok: false, error: (err as Error).message }
  }
}

export function stackPlanChecks(answer: StackAnswer): { checks: Check[], refusing: string[] } {
  if (!answer.ok) {
    return { checks: [warn('stack-checks', `the updater did not judge the stack: ${answer.error}`, 'its preflight judges it again before anything changes; owlat doctor shows the checks')], refusing: [] }
  }
  const checks = (answer.checks ?? [])
    .filter(c => c.status !== 'skip')
    .map(c => c.status === 'fail' && !c.blocking ? { ...c, status: 'warn' as const, fix: c.fix ?? 'see owlat doctor' } : c)
  return { checks, refusing: checks.filter(c => c.status === 'fail').map(c => c.id) }
}

/** `OWLAT_MIN_FREE_DISK_MB`: the least free space an update needs, whatever the estimate says (default 1 GiB). */
export const minFreeDiskMbSchema = z.coerce.number().int().min(0).default(1024)

/** The free-disk facts of the filesystem holding `path`: `needBytes` is the estimate, raised to the configured minimum. */
export async function diskFacts(path: string, estimateBytes: number, minFreeMb: number): Promise<DiskFacts | null> {
  try {
    const stats = await statfs(path)
    return { path, freeBytes: stats.bavail * stats.bsize, totalBytes: stats.blocks * stats.bsize, needBytes: Math.max(estimateBytes, minFreeMb * 1024 * 1024) }
  }
  catch {
    return null
  }
}
