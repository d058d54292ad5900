/**
 * Issue 17, automatic updates: the policy's schema, the maintenance window across time zones and
 * DST, which release the policy installs on its own, and the plan the scheduler and the page read.
 */
import { describe, expect, it } from 'vitest'
import type { z } from 'zod'
import {
  applyPolicyPatch, assessAutoUpdate, autoUpdatePolicySchema, currentWindow, DEFAULT_AUTO_UPDATE_POLICY, describeNextAutomaticUpdate,
  describeTime, eligibleAutoUpdate, isInWindow, maintenanceWindowSchema, nextWindowStart, planAutomaticUpdate, releaseLevel,
  resolveTimeZone, timeZoneNames, type AutoUpdateMode, type AutoUpdatePolicy, type MaintenanceWindow,
} from '../../../shared/auto-update'
import type { Release } from '../../../shared/schemas/release'
import type { RunRecord } from '../../../shared/targets'

const at = (iso: string) => Date.parse(iso)
const iso = (ms: number) => new Date(ms).toISOString()

function messages(input: unknown, schema: z.ZodType = autoUpdatePolicySchema): string[] {
  const parsed = schema.safeParse(input)
  return parsed.success ? [] : parsed.error.issues.map(i => i.message)
}

function win(partial: Partial<z.input<typeof maintenanceWindowSchema>> = {}): MaintenanceWindow {
  return maintenanceWindowSchema.parse({ days: ['sun'], start: '03:00', durationMinutes: 120, timeZone: 'UTC', ...partial })
}

describe('autoUpdatePolicySchema', () => {
  it('defaults to off, no window, no bypass, not paused', () => {
    expect(autoUpdatePolicySchema.parse({})).toEqual({ autoUpdate: 'off', maintenanceWindow: null, securityOutsideWindow: false, pausedUntil: null, pausedBy: null })
    expect(DEFAULT_AUTO_UPDATE_POLICY.autoUpdate).toBe('off')
  })

  it('takes a full policy and puts the days in week order', () => {
    const policy = autoUpdatePolicySchema.parse({
      autoUpdate: 'patch',
      maintenanceWindow: { days: ['sun', 'mon', 'wed'], start: '23:30', durationMinutes: 90, timeZone: 'Europe/Berlin' },
      securityOutsideWindow: true,
      pausedUntil: 1_800_000_000_000,
      pausedBy: 'admin@owlat.local',
    })
    expect(policy.maintenanceWindow).toEqual({ days: ['mon', 'wed', 'sun'], start: '23:30', durationMinutes: 90, timeZone: 'Europe/Berlin' })
  })

  it('refuses an unknown policy, with the choices', () => {
    expect(messages({ autoUpdate: 'weekly' })).toEqual(['autoUpdate must be off, security, patch or minor'])
    expect(messages({ autoUpdate: 'major' })).toEqual(['autoUpdate must be off, security, patch or minor'])
  })

  it('refuses an unknown time zone by name', () => {
    expect(messages({ maintenanceWindow: { days: ['sun'], start: '03:00', durationMinutes: 60, timeZone: 'Mars/Base' } })).toEqual(['unknown time zone Mars/Base'])
    expect(messages({ maintenanceWindow: { days: ['sun'], start: '03:00', durationMinutes: 60, timeZone: '+01:00' } })).toEqual(['unknown time zone +01:00'])
    expect(messages({ maintenanceWindow: { days: ['sun'], start: '03:00', durationMinutes: 60, timeZone: '' } })).toEqual(['time zone is required'])
  })

  it('accepts UTC and IANA zones in any case or alias, stored as Intl spells them', () => {
    for (const [given, stored] of [['UTC', 'UTC'], ['utc', 'UTC'], ['Etc/UTC', 'UTC'], ['europe/berlin', 'Europe/Berlin'], ['America/New_York', 'America/New_York'], ['US/Eastern', 'America/New_York']]) {
      expect(win({ timeZone: given }).timeZone).toBe(stored)
    }
    expect(resolveTimeZone('Mars/Base')).toBeNull()
    expect(timeZoneNames()[0]).toBe('UTC')
    expect(timeZoneNames()).toContain('Europe/Berlin')
  })

  it('refuses a start that is not HH:MM within the day', () => {
    for (const start of ['24:00', '3:00', '03:60', '0300', '03:00:00', 'noon', '']) {
      expect(messages({ days: ['sun'], start, durationMinutes: 60, timeZone: 'UTC' }, maintenanceWindowSchema), start).toEqual(['start must be HH:MM, from 00:00 to 23:59'])
    }
    expect(win({ start: '00:00' }).start).toBe('00:00')
    expect(win({ start: '23:59' }).start).toBe('23:59')
  })

  it('refuses a duration outside 1..1440 whole minutes', () => {
    const bad = (durationMinutes: unknown) => messages({ days: ['sun'], start: '03:00', durationMinutes, timeZone: 'UTC' }, maintenanceWindowSchema)
    expect(bad(0)).toEqual(['durationMinutes must be at least 1'])
    expect(bad(1441)).toEqual(['durationMinutes is at most 1440 (a day)'])
    expect(bad(1.5)).toEqual(['durationMinutes must be a whole number of minutes'])
    expect(bad('60')).toEqual(['durationMinutes must be a number of minutes'])
    expect(win({ durationMinutes: 1440 }).durationMinutes).toBe(1440)
  })

  it('refuses no days, repeated days, unknown days and unknown keys', () => {
    const bad = (extra: Record<string, unknown>) => messages({ days: ['sun'], start: '03:00', durationMinutes: 60, timeZone: 'UTC', ...extra }, maintenanceWindowSchema)
    expect(bad({ days: [] })).toEqual(['pick at least one day'])
    expect(bad({ days: ['sun', 'sun'] })).toEqual(['each day may be listed once'])
    expect(bad({ days: ['sunday'] })).toEqual(['days must be among mon, tue, wed, thu, fri, sat, sun'])
    expect(bad({ duration: 60 })).toHaveLength(1)
  })

  it('applies a partial change and validates the whole; a bad change throws and changes nothing', () => {
    const stored: AutoUpdatePolicy = { ...DEFAULT_AUTO_UPDATE_POLICY, autoUpdate: 'patch', maintenanceWindow: win() }
    expect(applyPolicyPatch(stored, { securityOutsideWindow: true })).toEqual({ ...stored, securityOutsideWindow: true })
    // Fields left out stay; no default sneaks back in for them.
    expect(applyPolicyPatch(stored, {}).autoUpdate).toBe('patch')
    expect(applyPolicyPatch(stored, { maintenanceWindow: null }).maintenanceWindow).toBeNull()
    expect(() => applyPolicyPatch(stored, { maintenanceWindow: { ...win(), timeZone: 'Mars/Base' } })).toThrow(/unknown time zone Mars\/Base/)
    expect(stored.maintenanceWindow?.timeZone).toBe('UTC')
  })
})

describe('the maintenance window', () => {
  it('is open from its start for its duration on its days (UTC)', () => {
    const w = win() // Sundays 03:00–05:00 UTC; 2026-01-04 is a Sunday
    expect(isInWindow(w, at('2026-01-04T02:59:59Z'))).toBe(false)
    expect(isInWindow(w, at('2026-01-04T03:00:00Z'))).toBe(true)
    expect(isInWindow(w, at('2026-01-04T04:59:59Z'))).toBe(true)
    expect(isInWindow(w, at('2026-01-04T05:00:00Z'))).toBe(false)
    expect(isInWindow(w, at('2026-01-05T03:30:00Z'))).toBe(false) // Monday
    expect(currentWindow(w, at('2026-01-04T04:00:00Z'))).toEqual({ start: at('2026-01-04T03:00:00Z'), end: at('2026-01-04T05:00:00Z') })
  })

  it('next opens on the next listed day, a week on when the day is today and it has passed', () => {
    const w = win({ days: ['sun', 'wed'] })
    expect(iso(nextWindowStart(w, at('2026-01-05T12:00:00Z')))).toBe('2026-01-07T03:00:00.000Z') // Mon → Wed
    expect(iso(nextWindowStart(w, at('2026-01-07T02:00:00Z')))).toBe('2026-01-07T03:00:00.000Z') // Wed, before
    expect(iso(nextWindowStart(w, at('2026-01-07T03:00:00Z')))).toBe('2026-01-11T03:00:00.000Z') // in it: the next one
    expect(iso(nextWindowStart(win(), at('2026-01-04T06:00:00Z')))).toBe('2026-01-11T03:00:00.000Z') // Sunday, after
  })

  it('runs past midnight into the next day, which it need not list', () => {
    const w = win({ days: ['sat'], start: '23:00', durationMinutes: 180 })
    expect(isInWindow(w, at('2026-01-03T23:30:00Z'))).toBe(true)
    expect(isInWindow(w, at('2026-01-04T01:59:00Z'))).toBe(true)
    expect(isInWindow(w, at('2026-01-04T02:00:00Z'))).toBe(false)
    expect(isInWindow(w, at('2026-01-04T23:30:00Z'))).toBe(false)
  })

  it('a day-long window every day is always open', () => {
    const w = win({ days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], start: '00:00', durationMinutes: 1440, timeZone: 'Pacific/Auckland' })
    for (let t = at('2026-01-01T00:00:00Z'); t < at('2026-01-15T00:00:00Z'); t += 53 * 60_000) expect(isInWindow(w, t)).toBe(true)
  })

  it('follows the zone\'s offset in winter and summer', () => {
    const w = win({ timeZone: 'Europe/Berlin', durationMinutes: 60 })
    expect(iso(nextWindowStart(w, at('2026-01-01T00:00:00Z')))).toBe('2026-01-04T02:00:00.000Z') // CET, +1
    expect(iso(nextWindowStart(w, at('2026-07-01T00:00:00Z')))).toBe('2026-07-05T01:00:00.000Z') // CEST, +2
    expect(isInWindow(w, at('2026-07-05T01:30:00Z'))).toBe(true)
    expect(isInWindow(w, at('2026-07-05T02:30:00Z'))).toBe(false)
    const ny = win({ timeZone: 'America/New_York', days: ['fri'], start: '22:00' })
    // Friday 22:00 in New York is Saturday 03:00 UTC in winter: the local day counts.
    expect(iso(nextWindowStart(ny, at('2026-01-05T00:00:00Z')))).toBe('2026-01-10T03:00:00.000Z')
    expect(isInWindow(ny, at('2026-01-10T04:00:00Z'))).toBe(true)
  })

  it('on the night DST begins, a start the clock skips opens right after the gap', () => {
    // 2026-03-29, Europe/Berlin: 02:00 CET → 03:00 CEST; 02:30 never happens.
    const w = win({ timeZone: 'Europe/Berlin', start: '02:30', durationMinutes: 60 })
    expect(iso(nextWindowStart(w, at('2026-03-28T12:00:00Z')))).toBe('2026-03-29T01:30:00.000Z') // 03:30 CEST
    expect(isInWindow(w, at('2026-03-29T01:29:00Z'))).toBe(false)
    expect(isInWindow(w, at('2026-03-29T02:29:00Z'))).toBe(true)
    expect(isInWindow(w, at('2026-03-29T02:30:00Z'))).toBe(false)
    // The week after, normal again.
    expect(iso(nextWindowStart(w, at('2026-03-29T03:00:00Z')))).toBe('2026-04-05T00:30:00.000Z')
  })

  it('on the night DST ends, a start the clock passes twice opens once, and the duration is real time', () => {
    // 2026-10-25, Europe/Berlin: 03:00 CEST → 02:00 CET; 02:30 happens twice.
    const w = win({ timeZone: 'Europe/Berlin', start: '02:30', durationMinutes: 30 })
    const first = nextWindowStart(w, at('2026-10-24T12:00:00Z'))
    expect(['2026-10-25T00:30:00.000Z', '2026-10-25T01:30:00.000Z']).toContain(iso(first))
    expect(iso(nextWindowStart(w, first))).toBe('2026-11-01T01:30:00.000Z')
    // Sampled through the night, the window is open for 30 minutes in all, not twice.
    let open = 0
    for (let t = at('2026-10-24T22:00:00Z'); t < at('2026-10-25T04:00:00Z'); t += 60_000) open += isInWindow(w, t) ? 1 : 0
    expect(open).toBe(30)
    // 01:00 CEST for 180 minutes ends at 03:00 CET by the wall clock: three real hours, not four.
    const long = win({ timeZone: 'Europe/Berlin', start: '01:00', durationMinutes: 180 })
    expect(currentWindow(long, at('2026-10-25T00:00:00Z'))).toEqual({ start: at('2026-10-24T23:00:00Z'), end: at('2026-10-25T02:00:00Z') })
  })

  it('a day-long window that opened before the clock went forward is still open on the next local date', () => {
    // America/New_York 2026-03-08: 02:00 EST → 03:00 EDT. Saturday 23:30 EST + 24 h = Monday 00:30 EDT.
    const w = win({ timeZone: 'America/New_York', days: ['sat'], start: '23:30', durationMinutes: 1440 })
    expect(isInWindow(w, at('2026-03-09T04:15:00Z'))).toBe(true) // Monday 00:15 EDT
    expect(isInWindow(w, at('2026-03-09T04:30:00Z'))).toBe(false)
  })

  it('handles a zone with a half-hour DST shift', () => {
    // Lord Howe Island moves 30 minutes: +10:30 in winter, +11 in summer.
    const w = win({ timeZone: 'Australia/Lord_Howe', days: ['mon'], start: '09:00', durationMinutes: 60 })
    expect(iso(nextWindowStart(w, at('2026-01-01T00:00:00Z')))).toBe('2026-01-04T22:00:00.000Z')
    expect(iso(nextWindowStart(w, at('2026-07-01T00:00:00Z')))).toBe('2026-07-05T22:30:00.000Z')
  })
})

function rel(version: string, extra: Partial<Release> = {}): Release {
  return {
    version, channel: version.includes('-') ? 'beta' : 'stable', publishedAt: '2026-01-01T00:00:00Z', severity: 'normal',
    notes: '', notesHtml: '', migratesData: false, rollbackFloor: null, verified: true, verifyError: null, ...extra,
  }
}
const sec = (version: string, extra: Partial<Release> = {}) => rel(version, { severity: 'security', ...extra })
const policy = (autoUpdate: AutoUpdateMode) => ({ autoUpdate })

function rolledBack(toVersion: string, endedAt = 1000): RunRecord {
  return { id: `run-${toVersion}`, jobId: `job-${toVersion}`, fromVersion: '1.2.2', toVersion, status: 'rolled_back', startedAt: endedAt - 100, endedAt, reason: 'web never became healthy', steps: [{ name: 'verify', status: 'failed' }, { name: 'restore', status: 'succeeded' }] }
}

describe('releaseLevel', () => {
  it('reads patch, minor and major steps; below 1.0 a minor step is major', () => {
    expect(releaseLevel('1.2.2', '1.2.3')).toBe('patch')
    expect(releaseLevel('1.4.0-beta.1', '1.4.0-beta.2')).toBe('patch')
    expect(releaseLevel('1.4.0-beta.2', '1.4.0')).toBe('patch')
    expect(releaseLevel('1.2.2', '1.3.0')).toBe('minor')
    expect(releaseLevel('1.2.2', '2.0.0')).toBe('major')
    expect(releaseLevel('0.3.1', '0.3.2')).toBe('patch')
    expect(releaseLevel('0.3.1', '0.4.0')).toBe('major')
  })
})

describe('eligibleAutoUpdate', () => {
  const base = { currentVersion: '1.2.2', channel: 'stable' as const }
  const mixed = [rel('1.2.3'), sec('1.2.4'), rel('1.2.5'), rel('1.3.0'), sec('1.3.1'), rel('1.4.0'), sec('2.0.0'), rel('1.5.0-beta.1')]

  it('off: nothing', () => {
    expect(eligibleAutoUpdate({ ...base, policy: policy('off'), releases: mixed })).toBeNull()
    expect(assessAutoUpdate({ ...base, policy: policy('off'), releases: mixed }).reason).toBe('automatic updates are off')
  })

  it('security: the newest security release of the same major, nothing else', () => {
    const choice = eligibleAutoUpdate({ ...base, policy: policy('security'), releases: mixed })
    expect(choice).toMatchObject({ version: '1.3.1', level: 'minor', security: true, why: 'security release' })
    const noSecurity = assessAutoUpdate({ ...base, policy: policy('security'), releases: [rel('1.2.3'), rel('1.3.0')] })
    expect(noSecurity.choice).toBeNull()
    expect(noSecurity.reason).toBe('1.3.0 is not a security release, and automatic updates install only security releases')
  })

  it('patch: the newest patch release, or a newer security release', () => {
    expect(eligibleAutoUpdate({ ...base, policy: policy('patch'), releases: [rel('1.2.3'), rel('1.2.4'), rel('1.3.0')] }))
      .toMatchObject({ version: '1.2.4', level: 'patch', security: false, why: 'patch release' })
    // A patch that brings an earlier security release's fix says so.
    expect(eligibleAutoUpdate({ ...base, policy: policy('patch'), releases: [sec('1.2.3'), rel('1.2.4'), rel('1.3.0')] }))
      .toMatchObject({ version: '1.2.4', security: true, why: 'patch release with security fixes' })
    expect(eligibleAutoUpdate({ ...base, policy: policy('patch'), releases: mixed })).toMatchObject({ version: '1.3.1', why: 'security release' })
    const onlyMinor = assessAutoUpdate({ ...base, policy: policy('patch'), releases: [rel('1.3.0')] })
    expect(onlyMinor.reason).toBe('1.3.0 is a minor release, and automatic updates install only patch and security releases')
  })

  it('minor: the newest release of the same major; never a new major, security or not', () => {
    expect(eligibleAutoUpdate({ ...base, policy: policy('minor'), releases: mixed })).toMatchObject({ version: '1.4.0', level: 'minor', security: true, why: 'minor release with security fixes' })
    expect(eligibleAutoUpdate({ ...base, policy: policy('minor'), releases: [rel('1.3.0')] })).toMatchObject({ why: 'minor release', security: false })
    const onlyMajor = assessAutoUpdate({ ...base, policy: policy('minor'), releases: [sec('2.0.0'), rel('2.1.0')] })
    expect(onlyMajor.choice).toBeNull()
    expect(onlyMajor.reason).toBe('2.1.0 is a new major version; major versions are installed only by an admin')
    expect(onlyMajor.held.map(h => h.version)).toEqual(['2.1.0', '2.0.0'])
  })

  it('below 1.0, a minor step is never automatic', () => {
    const choice = eligibleAutoUpdate({ currentVersion: '0.3.1', channel: 'stable', policy: policy('minor'), releases: [rel('0.3.2'), sec('0.4.0')] })
    expect(choice?.version).toBe('0.3.2')
  })

  it('only releases on the channel: pre-releases and beta manifests only on beta', () => {
    const releases = [rel('1.3.0'), rel('1.4.0-beta.1'), rel('1.3.1', { channel: 'beta' })]
    expect(eligibleAutoUpdate({ ...base, policy: policy('minor'), releases })?.version).toBe('1.3.0')
    expect(eligibleAutoUpdate({ ...base, channel: 'beta', policy: policy('minor'), releases })?.version).toBe('1.4.0-beta.1')
    expect(eligibleAutoUpdate({ currentVersion: '1.4.0-beta.1', channel: 'beta', policy: policy('patch'), releases: [rel('1.4.0-beta.2')] })?.version).toBe('1.4.0-beta.2')
  })

  it('only verified releases; an unverified newest one gives way to an older verified one', () => {
    const releases = [rel('1.2.3'), rel('1.2.4', { verified: false, verifyError: 'bad signature' })]
    const assessed = assessAutoUpdate({ ...base, policy: policy('patch'), releases })
    expect(assessed.choice?.version).toBe('1.2.3')
    expect(assessed.held).toEqual([{ version: '1.2.4', reason: '1.2.4 failed verification: bad signature', allowedByPolicy: true }])
    expect(assessAutoUpdate({ ...base, policy: policy('patch'), releases: releases.slice(1) }).reason).toBe('1.2.4 failed verification: bad signature')
  })

  it('never a release that failed here: it waits for an admin, and an older one may still go', () => {
    const releases = [rel('1.2.3'), sec('1.2.4')]
    const assessed = assessAutoUpdate({ ...base, policy: policy('patch'), releases, runs: [rolledBack('1.2.4')] })
    expect(assessed.choice).toMatchObject({ version: '1.2.3', security: false })
    expect(assessed.held[0]).toMatchObject({ version: '1.2.4', allowedByPolicy: true })
    expect(assessed.held[0]!.reason).toBe('1.2.4 failed on this instance (run job-1.2.4, rolled back: web never became healthy); it is not retried automatically and waits for an admin')
    const alone = assessAutoUpdate({ ...base, policy: policy('patch'), releases: [sec('1.2.4')], runs: [rolledBack('1.2.4')] })
    expect(alone.choice).toBeNull()
    expect(alone.reason).toMatch(/^1\.2\.4 failed on this instance .* waits for an admin$/)
    // Also from a list of versions, and a later success clears the mark (shared/targets.ts rule).
    expect(eligibleAutoUpdate({ ...base, policy: policy('patch'), releases, failedVersions: ['1.2.4'] })?.version).toBe('1.2.3')
    const retried: RunRecord = { ...rolledBack('1.2.4', 2000), id: 'run-again', jobId: 'job-again', status: 'succeeded', reason: null, steps: [] }
    expect(eligibleAutoUpdate({ ...base, policy: policy('patch'), releases, runs: [rolledBack('1.2.4'), retried] })?.version).toBe('1.2.4')
  })

  it('nothing newer, or no release version running', () => {
    expect(assessAutoUpdate({ ...base, policy: policy('minor'), releases: [rel('1.2.1'), rel('1.2.2')] }).reason).toBe('no release newer than 1.2.2 on the stable channel')
    expect(assessAutoUpdate({ ...base, currentVersion: 'dev', policy: policy('minor'), releases: mixed }).reason).toBe('the running version "dev" is not a release version')
  })
})

describe('planAutomaticUpdate', () => {
  const sunday3utc = win() // Sundays 03:00–05:00 UTC
  const wednesday = at('2026-01-07T12:00:00Z')
  const releases = [rel('1.2.3'), sec('1.3.1')]
  const plan = (p: Partial<AutoUpdatePolicy>, now: number, more: Partial<Parameters<typeof planAutomaticUpdate>[0]> = {}) => planAutomaticUpdate({
    policy: { ...DEFAULT_AUTO_UPDATE_POLICY, autoUpdate: 'patch', maintenanceWindow: sunday3utc, ...p },
    now, currentVersion: '1.2.2', channel: 'stable', releases, ...more,
  })

  it('off: none', () => {
    expect(plan({ autoUpdate: 'off' }, wednesday)).toEqual({ kind: 'none', reason: 'automatic updates are off' })
  })

  it('outside the window: scheduled at its next opening', () => {
    expect(plan({}, wednesday)).toEqual({ kind: 'scheduled', version: '1.3.1', at: at('2026-01-11T03:00:00Z'), why: 'security release', security: true })
  })

  it('inside the window: due, with when the window closes', () => {
    expect(plan({}, at('2026-01-11T03:10:00Z'))).toEqual({ kind: 'due', version: '1.3.1', why: 'security release', security: true, outsideWindow: false, windowEndsAt: at('2026-01-11T05:00:00Z') })
  })

  it('without a window: due at once', () => {
    expect(plan({ maintenanceWindow: null }, wednesday)).toMatchObject({ kind: 'due', version: '1.3.1', windowEndsAt: null })
  })

  it('a security release bypasses the window only with securityOutsideWindow', () => {
    expect(plan({ securityOutsideWindow: true }, wednesday)).toMatchObject({ kind: 'due', version: '1.3.1', outsideWindow: true })
    // A plain patch release waits for the window all the same.
    expect(plan({ securityOutsideWindow: true }, wednesday, { releases: [rel('1.2.3')] })).toMatchObject({ kind: 'scheduled', version: '1.2.3', why: 'patch release' })
  })

  it('paused: says until when, by whom and what comes after; a freeze that ended is ignored', () => {
    const until = at('2026-01-20T09:00:00Z')
    expect(plan({ pausedUntil: until, pausedBy: 'ops@owlat.local' }, wednesday)).toEqual({ kind: 'paused', until, by: 'ops@owlat.local', version: '1.3.1', why: 'security release' })
    expect(plan({ pausedUntil: until, pausedBy: null, securityOutsideWindow: true }, wednesday)).toMatchObject({ kind: 'paused' })
    expect(plan({ pausedUntil: wednesday - 1 }, wednesday)).toMatchObject({ kind: 'scheduled' })
  })

  it('nothing allowed: none, with why', () => {
    expect(plan({}, wednesday, { releases: [rel('2.0.0')] })).toEqual({ kind: 'none', reason: '2.0.0 is a new major version; major versions are installed only by an admin' })
    expect(plan({}, wednesday, { releases: [sec('1.3.1')], runs: [rolledBack('1.3.1')] })).toMatchObject({ kind: 'none', reason: expect.stringMatching(/waits for an admin/) })
  })
})

describe('describeNextAutomaticUpdate', () => {
  const wednesday = at('2026-01-07T12:00:00Z')

  it('says the version, the day and time in the window\'s zone, and why', () => {
    expect(describeNextAutomaticUpdate({ kind: 'scheduled', version: '1.3.1', at: at('2026-01-11T03:00:00Z'), why: 'security release', security: true }, 'UTC'))
      .toBe('1.3.1 on Sunday 03:00 UTC, security release')
    expect(describeNextAutomaticUpdate({ kind: 'scheduled', version: '1.2.3', at: at('2026-01-11T02:00:00Z'), why: 'patch release', security: false }, 'Europe/Berlin', wednesday))
      .toBe('1.2.3 on Sunday 03:00 Europe/Berlin, patch release')
  })

  it('adds the date when the weekday alone would be ambiguous', () => {
    const nextWeek = { kind: 'scheduled' as const, version: '1.3.1', at: at('2026-01-14T03:00:00Z'), why: 'patch release', security: false }
    expect(describeNextAutomaticUpdate(nextWeek, 'UTC', at('2026-01-07T04:00:00Z'))).toBe('1.3.1 on Wednesday 14 January 03:00 UTC, patch release')
    expect(describeTime(at('2026-01-14T03:00:00Z'), 'UTC', { withDate: true })).toBe('Wednesday 14 January 03:00 UTC')
  })

  it('reads the other plans', () => {
    expect(describeNextAutomaticUpdate({ kind: 'due', version: '1.3.1', why: 'security release', security: true, outsideWindow: true, windowEndsAt: null }, 'UTC'))
      .toBe('1.3.1 now, security release (outside the maintenance window)')
    expect(describeNextAutomaticUpdate({ kind: 'paused', until: at('2026-01-20T09:00:00Z'), by: 'ops@owlat.local', version: '1.3.1', why: 'security release' }, 'UTC'))
      .toBe('Automatic updates are paused until Tuesday 20 January 09:00 UTC by ops@owlat.local; then 1.3.1, security release')
    expect(describeNextAutomaticUpdate({ kind: 'none', reason: 'automatic updates are off' }, 'UTC')).toBe('No automatic update planned: automatic updates are off')
  })
})
