/**
 * Automatic updates (issue 17): the policy an admin sets, the maintenance window it may run in,
 * and which release, if any, the scheduler installs on its own and when. Pure rules with the clock
 * passed in, so the Nitro task, the page ("1.3.1 on Sunday 03:00 UTC, security release") and the
 * tests read the same answer. Browser-safe (luxon does the time-zone arithmetic, DST included).
 */
import { DateTime } from 'luxon'
import semver from 'semver'
import { z } from 'zod'
import type { Release } from './schemas/release'
import { RUN_STATUS_TEXT } from './run-state'
import { failedReleases, type RunRecord } from './targets'
import { compareVersions, isReleaseOnChannel, isVersion, sortVersionsDesc, type Channel } from './version'

export const AUTO_UPDATE_MODES = ['off', 'security', 'patch', 'minor'] as const
export type AutoUpdateMode = (typeof AUTO_UPDATE_MODES)[number]

/** Week days as the policy names them; index + 1 is ISO's (and luxon's) weekday, Monday = 1. */
export const WEEK_DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const
export type WeekDay = (typeof WEEK_DAYS)[number]

const HH_MM = /^([01]\d|2[0-3]):([0-5]\d)$/

/**
 * The time zone `name` stands for, in the spelling Intl resolves it to (`utc` → `UTC`,
 * `europe/berlin` → `Europe/Berlin`, `US/Eastern` → `America/New_York`), or null when it is not an
 * IANA zone. Offsets such as `+01:00` are refused: they have no DST rules and read as a zone only
 * by accident of newer engines.
 */
export function resolveTimeZone(name: string): string | null {
  if (!/^[A-Za-z]/.test(name)) return null
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: name }).resolvedOptions().timeZone
  }
  catch {
    return null
  }
}

/** Every zone the engine knows, for a picker: Intl's list with UTC first (the list omits it). */
export function timeZoneNames(): string[] {
  const names = typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : []
  return ['UTC', ...names.filter(name => name !== 'UTC')]
}

export const timeZoneSchema = z.string().trim().min(1, 'time zone is required').max(100).transform((name, ctx) => {
  const resolved = resolveTimeZone(name)
  if (resolved === null) {
    ctx.addIssue({ code: 'custom', message: `unknown time zone ${name}` })
    return z.NEVER
  }
  return resolved
})

/**
 * When automatic updates may start: on each of `days` at `start` (wall-clock time in `timeZone`),
 * for `durationMinutes` of real time. A window may run past midnight; `days` name the day it opens.
 */
export const maintenanceWindowSchema = z.object({
  days: z.array(z.enum(WEEK_DAYS, { message: 'days must be among mon, tue, wed, thu, fri, sat, sun' }))
    .min(1, 'pick at least one day')
    .refine(days => new Set(days).size === days.length, 'each day may be listed once')
    // Week order, so the page and a stored copy read the same whatever order they were picked in.
    .transform(days => WEEK_DAYS.filter(day => days.includes(day))),
  start: z.string().regex(HH_MM, 'start must be HH:MM, from 00:00 to 23:59'),
  durationMinutes: z.number({ message: 'durationMinutes must be a number of minutes' })
    .int('durationMinutes must be a whole number of minutes')
    .min(1, 'durationMinutes must be at least 1')
    .max(1440, 'durationMinutes is at most 1440 (a day)'),
  timeZone: timeZoneSchema,
}).strict()
export type MaintenanceWindow = z.output<typeof maintenanceWindowSchema>

/** Each field once, without defaults: the policy below adds them, the partial update leaves them out. */
const policyFields = {
  autoUpdate: z.enum(AUTO_UPDATE_MODES, { message: 'autoUpdate must be off, security, patch or minor' }),
  /** Null: no window, an allowed release is installed as soon as it is seen. */
  maintenanceWindow: maintenanceWindowSchema.nullable(),
  /** Whether a security release may be installed outside the window. */
  securityOutsideWindow: z.boolean({ message: 'securityOutsideWindow must be true or false' }),
  /** A freeze (holidays, an incident): nothing is installed automatically before this time (unix ms). */
  pausedUntil: z.number().int().min(0).nullable(),
  /** Who set the freeze (an admin's email), shown on the page. */
  pausedBy: z.string().trim().max(320).nullable(),
}

export const autoUpdatePolicySchema = z.object({
  autoUpdate: policyFields.autoUpdate.default('off'),
  maintenanceWindow: policyFields.maintenanceWindow.default(null),
  securityOutsideWindow: policyFields.securityOutsideWindow.default(false),
  pausedUntil: policyFields.pausedUntil.default(null),
  pausedBy: policyFields.pausedBy.default(null),
})
export type AutoUpdatePolicy = z.output<typeof autoUpdatePolicySchema>

/** A change to the policy (`PUT /api/system/settings` takes a partial body): only the fields given. */
export const autoUpdatePolicyPatchSchema = z.object(policyFields).partial()
export type AutoUpdatePolicyPatch = z.output<typeof autoUpdatePolicyPatchSchema>

export const DEFAULT_AUTO_UPDATE_POLICY: AutoUpdatePolicy = autoUpdatePolicySchema.parse({})

/** The stored policy with a change applied, validated as a whole (throws a ZodError on bad input). */
export function applyPolicyPatch(policy: AutoUpdatePolicy, patch: unknown): AutoUpdatePolicy {
  const change = autoUpdatePolicyPatchSchema.parse(patch)
  const defined = Object.fromEntries(Object.entries(change).filter(([, value]) => value !== undefined))
  return autoUpdatePolicySchema.parse({ ...policy, ...defined })
}

// --- The maintenance window -----------------------------------------------------------------

/** One opening of a window: unix ms, `end` exclusive. */
export interface WindowOpening {
  start: number
  end: number
}

/**
 * The opening that starts on the local date of `day` (in the window's zone), or null when the
 * window is not open that week day. A start the clock skips (02:30 on the night DST begins) is
 * taken as the moment after the gap; a start the clock passes twice, at one of the two (luxon's
 * choice), so a window never opens twice in a night.
 */
function openingOn(window: MaintenanceWindow, day: DateTime): WindowOpening | null {
  if (!window.days.includes(WEEK_DAYS[day.weekday - 1]!)) return null
  const [hour, minute] = window.start.split(':').map(Number) as [number, number]
  const start = DateTime.fromObject({ year: day.year, month: day.month, day: day.day, hour, minute }, { zone: window.timeZone })
  // Real minutes, not wall-clock ones: a 3-hour window stays 3 hours on the night DST changes.
  return { start: start.toMillis(), end: start.toMillis() + window.durationMinutes * 60_000 }
}

function localDay(window: MaintenanceWindow, now: number): DateTime {
  const local = DateTime.fromMillis(now, { zone: window.timeZone })
  if (!local.isValid) throw new Error(`unknown time zone ${window.timeZone}`)
  return local.startOf('day')
}

/** The opening `now` falls in, or null outside the window. */
export function currentWindow(window: MaintenanceWindow, now: number): WindowOpening | null {
  const today = localDay(window, now)
  // A window of up to a day that opened two local dates ago can still be open when DST moved the clock on.
  for (let back = 2; back >= 0; back--) {
    const opening = openingOn(window, today.minus({ days: back }))
    if (opening && opening.start <= now && now < opening.end) return opening
  }
  return null
}

export function isInWindow(window: MaintenanceWindow, now: number): boolean {
  return currentWindow(window, now) !== null
}

/** When the window next opens after `now` (strictly later: the opening `now` is in does not count). */
export function nextWindowStart(window: MaintenanceWindow, now: number): number {
  const today = localDay(window, now)
  // Eight local dates cover a week whatever the day, and a start moved by DST.
  for (let ahead = 0; ahead <= 8; ahead++) {
    const opening = openingOn(window, today.plus({ days: ahead }))
    if (opening && opening.start > now) return opening.start
  }
  throw new Error('the maintenance window has no day') // the schema requires one
}

// --- Which release --------------------------------------------------------------------------

/** How far a release moves from the running version, as the policy reads it. */
export type ReleaseLevel = 'patch' | 'minor' | 'major'

/**
 * `patch`: same major and minor (a pre-release of the same version counts, so the beta channel
 * moves from beta.1 to beta.2); `minor`: same major; `major` otherwise. Below 1.0.0 semver lets
 * a minor release break anything, so there a minor step counts as major.
 */
export function releaseLevel(currentVersion: string, version: string): ReleaseLevel {
  const major = semver.major(version)
  if (major !== semver.major(currentVersion)) return 'major'
  if (semver.minor(version) !== semver.minor(currentVersion)) return major === 0 ? 'major' : 'minor'
  return 'patch'
}

export interface AutoUpdateInput {
  policy: Pick<AutoUpdatePolicy, 'autoUpdate'>
  currentVersion: string
  channel: Channel
  releases: readonly Release[]
  /** The instance's runs: a release that failed here (shared/targets.ts `failedReleases`) is never picked. */
  runs?: readonly RunRecord[]
  /** Versions to leave out besides, when the caller knows them without the runs. */
  failedVersions?: readonly string[]
}

export interface AutoUpdateChoice {
  release: Release
  version: string
  level: Exclude<ReleaseLevel, 'major'>
  /** The target is a security release, or brings one the instance lacks (one between it and the running version). */
  security: boolean
  /** Why it is installed, in words for the page and the notifications: "security release", "patch release". */
  why: string
}

/** A newer release the policy does not install on its own, and why. */
export interface HeldRelease {
  version: string
  reason: string
  /** The policy would install it but something else stops it (it failed here, it is unverified). */
  allowedByPolicy: boolean
}

export interface AutoUpdateAssessment {
  choice: AutoUpdateChoice | null
  /** Why nothing is chosen; null when something is. */
  reason: string | null
  /** Newer releases on the channel that are not chosen, newest first. */
  held: HeldRelease[]
}

function policyRefusal(mode: AutoUpdateMode, release: Release, level: ReleaseLevel): string | null {
  const v = release.version
  if (level === 'major') return `${v} is a new major version; major versions are installed only by an admin`
  if (mode === 'off') return 'automatic updates are off'
  if (release.severity === 'security') return null
  if (mode === 'security') return `${v} is not a security release, and automatic updates install only security releases`
  if (mode === 'patch' && level !== 'patch') return `${v} is a minor release, and automatic updates install only patch and security releases`
  return null
}

/**
 * Every newer release on the channel with what the policy says of it: the newest one it allows
 * (verified, on the channel, not failed here, never a new major) or why there is none.
 */
export function assessAutoUpdate(input: AutoUpdateInput): AutoUpdateAssessment {
  const { policy, currentVersion: current, channel } = input
  if (policy.autoUpdate === 'off') return { choice: null, reason: 'automatic updates are off', held: [] }
  if (!isVersion(current)) return { choice: null, reason: `the running version "${current}" is not a release version`, held: [] }
  const failed = new Map(failedReleases(input.runs ?? []).map(f => [f.version, `${f.version} failed on this instance (run ${f.runId}, ${RUN_STATUS_TEXT[f.status]}${f.reason ? `: ${f.reason}` : ''})`]))
  for (const version of input.failedVersions ?? []) {
    if (!failed.has(version)) failed.set(version, `${version} failed on this instance`)
  }
  const newer = sortVersionsDesc(
    input.releases.filter(r => isVersion(r.version) && isReleaseOnChannel(r, channel) && compareVersions(r.version, current) > 0),
    r => r.version,
  )
  if (newer.length === 0) return { choice: null, reason: `no release newer than ${current} on the ${channel} channel`, held: [] }

  const held: HeldRelease[] = []
  let choice: AutoUpdateChoice | null = null
  for (const release of newer) {
    const level = releaseLevel(current, release.version)
    const refusal = policyRefusal(policy.autoUpdate, release, level)
    if (refusal) {
      held.push({ version: release.version, reason: refusal, allowedByPolicy: false })
      continue
    }
    if (!release.verified) {
      held.push({ version: release.version, reason: `${release.version} failed verification: ${release.verifyError ?? 'unknown reason'}`, allowedByPolicy: true })
      continue
    }
    const failedHere = failed.get(release.version)
    if (failedHere) {
      // Never retried on its own: an admin decides (issue 17, "after a failure").
      held.push({ version: release.version, reason: `${failedHere}; it is not retried automatically and waits for an admin`, allowedByPolicy: true })
      continue
    }
    const brings = newer.filter(r => compareVersions(r.version, release.version) <= 0)
    const security = brings.some(r => r.severity === 'security')
    const kind = `${level as 'patch' | 'minor'} release`
    choice = {
      release,
      version: release.version,
      level: level as 'patch' | 'minor',
      security,
      why: release.severity === 'security' ? 'security release' : security ? `${kind} with security fixes` : kind,
    }
    break // older releases come with it: none of them is held back
  }
  if (choice) return { choice, reason: null, held }
  // Say what stops the release the admin would expect first: one the policy allows but that cannot go.
  const first = held.find(h => h.allowedByPolicy) ?? held[0]!
  return { choice: null, reason: first.reason, held }
}

/** The newest release the policy installs on its own, or null. */
export function eligibleAutoUpdate(input: AutoUpdateInput): AutoUpdateChoice | null {
  return assessAutoUpdate(input).choice
}

// --- The plan -------------------------------------------------------------------------------

/**
 * What the scheduler does now. `paused`: `version` is what would be installed once the freeze
 * ends (null: nothing now). `due`: start it now; `outsideWindow` when a security release was let
 * through by `securityOutsideWindow`, `windowEndsAt` when the opening it starts in closes (null
 * without a window or outside it). `scheduled`: start it when the window opens at `at`.
 */
export type AutomaticUpdatePlan
  = | { kind: 'none', reason: string }
    | { kind: 'paused', until: number, by: string | null, version: string | null, why: string | null }
    | { kind: 'due', version: string, why: string, security: boolean, outsideWindow: boolean, windowEndsAt: number | null }
    | { kind: 'scheduled', version: string, at: number, why: string, security: boolean }

export interface PlanInput extends Omit<AutoUpdateInput, 'policy'> {
  policy: AutoUpdatePolicy
  now: number
}

/**
 * What the scheduler does at `now`: nothing (and why), wait out a freeze, start a release, or
 * start it when the window next opens. A security release (or a release that brings one) goes
 * outside the window only with `securityOutsideWindow`.
 */
export function planAutomaticUpdate(input: PlanInput): AutomaticUpdatePlan {
  const { policy, now } = input
  if (policy.autoUpdate === 'off') return { kind: 'none', reason: 'automatic updates are off' }
  const { choice, reason } = assessAutoUpdate(input)
  if (policy.pausedUntil !== null && policy.pausedUntil > now) {
    return { kind: 'paused', until: policy.pausedUntil, by: policy.pausedBy, version: choice?.version ?? null, why: choice?.why ?? null }
  }
  if (!choice) return { kind: 'none', reason: reason ?? 'no release to install' }
  const { version, why, security } = choice
  const window = policy.maintenanceWindow
  if (!window) return { kind: 'due', version, why, security, outsideWindow: false, windowEndsAt: null }
  const opening = currentWindow(window, now)
  if (opening) return { kind: 'due', version, why, security, outsideWindow: false, windowEndsAt: opening.end }
  if (security && policy.securityOutsideWindow) return { kind: 'due', version, why, security, outsideWindow: true, windowEndsAt: null }
  return { kind: 'scheduled', version, at: nextWindowStart(window, now), why, security }
}

// --- In words -------------------------------------------------------------------------------

const DAY_MS = 24 * 60 * 60_000
const WEEK_MS = 7 * DAY_MS

/**
 * `Sunday 03:00 UTC`; with the date (`Sunday 12 January 03:00 Europe/Berlin`) when `withDate`, or
 * when `now` is given and the weekday alone would be ambiguous (six days or more away).
 */
export function describeTime(at: number, timeZone: string, options: { now?: number, withDate?: boolean } = {}): string {
  const zone = resolveTimeZone(timeZone) ?? 'UTC'
  const local = DateTime.fromMillis(at, { zone }).setLocale('en-GB')
  const withDate = options.withDate ?? (options.now !== undefined && at - options.now >= WEEK_MS - DAY_MS)
  return `${local.toFormat(withDate ? 'cccc d LLLL HH:mm' : 'cccc HH:mm')} ${zone}`
}

/**
 * The plan in one line for the page: "1.3.1 on Sunday 03:00 UTC, security release". `timeZone` is
 * the zone to show times in (the window's); `now`, when given, adds the date to a time a week away.
 */
export function describeNextAutomaticUpdate(plan: AutomaticUpdatePlan, timeZone: string, now?: number): string {
  switch (plan.kind) {
    case 'none':
      return `No automatic update planned: ${plan.reason}`
    case 'paused': {
      const by = plan.by ? ` by ${plan.by}` : ''
      const next = plan.version ? `; then ${plan.version}, ${plan.why}` : ''
      return `Automatic updates are paused until ${describeTime(plan.until, timeZone, { withDate: true })}${by}${next}`
    }
    case 'due':
      return `${plan.version} now, ${plan.why}${plan.outsideWindow ? ' (outside the maintenance window)' : ''}`
    case 'scheduled':
      return `${plan.version} on ${describeTime(plan.at, timeZone, { now })}, ${plan.why}`
  }
}
