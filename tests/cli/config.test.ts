/**
 * Issue 17: `owlat config` reads and sets the automatic update policy straight in the web's store
 * (the SQLite file of a demo data dir here), with the rules `PUT /api/system/settings` applies:
 * bad input is one usage error line and nothing is saved.
 */
import { join } from 'node:path'
import { beforeEach, describe, expect, it } from 'vitest'
import { DEFAULT_SETTINGS, type Settings } from '../../shared/schemas/api'
import { openSqliteStore } from '../../server/utils/store/sqlite'
import { makeDemoInstance, runCli, stderrLines, type CliResult } from './helpers'

describe('owlat config', () => {
  let env: Record<string, string>
  let file: string

  async function stored(): Promise<Settings> {
    const store = openSqliteStore(file)
    try {
      return await store.getSettings()
    }
    finally {
      await store.close()
    }
  }

  function config(...args: string[]): Promise<CliResult> {
    return runCli(['config', ...args], env)
  }

  /** A usage error: exit 2, one stderr line naming what is wrong, and the settings as they were. */
  async function expectRefused(args: string[], message: RegExp): Promise<void> {
    const before = await stored()
    const result = await config(...args)
    expect(result.exitCode, result.stdout).toBe(2)
    expect(result.stdout).toBe('')
    const lines = stderrLines(result)
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatch(message)
    expect(lines[0]).toMatch(/nothing was changed$/)
    expect(await stored()).toEqual(before)
  }

  beforeEach(async () => {
    const demo = makeDemoInstance()
    env = { OWLAT_DATA_DIR: demo.dataDir, OWLAT_DIR: demo.owlatDir }
    file = join(demo.dataDir, 'web.sqlite')
    // The web made its store when it first ran.
    await openSqliteStore(file).close()
  })

  it('says where it looked when the web never ran here', async () => {
    const bare = makeDemoInstance()
    const result = await runCli(['config'], { OWLAT_DATA_DIR: bare.dataDir, OWLAT_DIR: bare.owlatDir })
    expect(result.exitCode).toBe(1)
    expect(stderrLines(result)).toEqual([`owlat: no web store in ${bare.dataDir}: set OWLAT_DATA_DIR to the web's data dir (npm start: .data), or OWLAT_CONVEX_URL and OWLAT_CONVEX_ADMIN_KEY for Convex`])
  })

  it('prints the defaults without options, changing nothing', async () => {
    const result = await config()
    expect(result.exitCode, result.stderr).toBe(0)
    expect(result.stderr).toBe('')
    expect(result.stdout.split('\n').filter(Boolean)).toEqual([
      'Automatic updates        off',
      'Maintenance window       none (an allowed release is installed as soon as it is seen)',
      'Security outside window  no',
      'Paused                   no',
      'Channel                  stable',
    ])
    expect(await stored()).toEqual(DEFAULT_SETTINGS)

    const json = await config('--json')
    expect(JSON.parse(json.stdout)).toEqual(DEFAULT_SETTINGS)
  })

  it('sets the policy and a window, reads them back, and changes only what is given', async () => {
    const set = await config('--auto-update', 'patch', '--window-days', 'sun,mon', '--window-start', '03:00', '--window-duration', '60', '--time-zone', 'europe/berlin', '--security-outside-window')
    expect(set.exitCode, set.stderr).toBe(0)
    expect(set.stdout).toContain(`Settings saved in ${file}.`)
    expect(set.stdout).toContain('Automatic updates        patch')
    // Week order and the zone's own spelling, as the shared schema stores them.
    expect(set.stdout).toContain('Maintenance window       mon, sun at 03:00 for 60 min (Europe/Berlin)')
    expect(set.stdout).toContain('Security outside window  yes')
    // Open for an hour of Sunday or Monday morning: the run may fall in it.
    expect(set.stdout).toMatch(/^(Next window opens {8}(Monday|Sunday) 03:00|Window {19}open now, until (Monday|Sunday) 04:00) Europe\/Berlin$/m)
    const window = { days: ['mon', 'sun'], start: '03:00', durationMinutes: 60, timeZone: 'Europe/Berlin' }
    expect(await stored()).toEqual({ ...DEFAULT_SETTINGS, autoUpdate: 'patch', maintenanceWindow: window, securityOutsideWindow: true })

    const shown = await config()
    expect(shown.stdout).not.toContain('Settings saved')
    expect(shown.stdout).toContain('Maintenance window       mon, sun at 03:00 for 60 min (Europe/Berlin)')

    // A partial window change merges into the window there is.
    const moved = await config('--window-start', '04:30', '--security-outside-window=false')
    expect(moved.exitCode, moved.stderr).toBe(0)
    expect(await stored()).toEqual({ ...DEFAULT_SETTINGS, autoUpdate: 'patch', maintenanceWindow: { ...window, start: '04:30' }, securityOutsideWindow: false })

    // A window open around the clock is open now, until its day's end.
    const always = await config('--window-days', 'mon,tue,wed,thu,fri,sat,sun', '--window-start', '00:00', '--window-duration', '1440', '--time-zone', 'UTC')
    expect(always.exitCode, always.stderr).toBe(0)
    expect(always.stdout).toMatch(/^Window {19}open now, until \S+ 00:00 UTC$/m)
    expect(always.stdout).not.toContain('Next window opens')

    const removed = await config('--no-window', '--auto-update', 'security')
    expect(removed.exitCode, removed.stderr).toBe(0)
    expect(removed.stdout).toContain('Maintenance window       none')
    expect(await stored()).toEqual({ ...DEFAULT_SETTINGS, autoUpdate: 'security' })
  })

  it('refuses a bad policy, time zone, start or window with one clear line, saving nothing of the change', async () => {
    const ok = await config('--auto-update', 'minor', '--window-days', 'sat', '--window-start', '02:00', '--window-duration', '120')
    expect(ok.exitCode, ok.stderr).toBe(0)
    expect((await stored()).maintenanceWindow).toEqual({ days: ['sat'], start: '02:00', durationMinutes: 120, timeZone: 'UTC' })

    await expectRefused(['--auto-update', 'sometimes'], /^owlat: --auto-update: autoUpdate must be off, security, patch or minor; /)
    // Each bad value is refused with the rest of the change: nothing of it is kept.
    await expectRefused(['--auto-update', 'patch', '--time-zone', 'Mars/Olympus'], /^owlat: --time-zone: unknown time zone Mars\/Olympus; /)
    await expectRefused(['--window-start', '25:00', '--security-outside-window'], /^owlat: --window-start: start must be HH:MM, from 00:00 to 23:59; /)
    await expectRefused(['--window-days', 'mon,someday'], /^owlat: --window-days: days must be among mon, tue, wed, thu, fri, sat, sun; /)
    await expectRefused(['--window-duration', '1441'], /^owlat: --window-duration: durationMinutes is at most 1440 \(a day\); /)
  })

  it('refuses a bad channel, pause or combination of options, saving nothing', async () => {
    await expectRefused(['--channel', 'nightly'], /^owlat: --channel: /)
    await expectRefused(['--no-window', '--window-start', '01:00'], /^owlat: --no-window cannot go with --window-start; /)
    await expectRefused(['--pause-until', 'next week'], /^owlat: --pause-until: "next week" is not an ISO 8601 date or date-time/)
    await expectRefused(['--pause-until', '2020-01-01T00:00Z'], /^owlat: --pause-until: 2020-01-01T00:00:00.000Z is not in the future; /)
    await expectRefused(['--pause-until', '2099-01-01', '--resume'], /^owlat: --pause-until and --resume cannot go together; /)
  })

  it('asks a new window for its days, start and duration', async () => {
    await expectRefused(['--window-start', '03:00'], /^owlat: there is no maintenance window to change: a new one needs --window-days, --window-start and --window-duration \(--time-zone defaults to UTC\), and --window-days, --window-duration are missing; /)
    expect((await stored()).maintenanceWindow).toBeNull()
  })

  it('refuses unknown options and a malformed --as like other usage errors', async () => {
    const unknown = await config('--auto-updates', 'patch')
    expect(unknown.exitCode).toBe(2)
    expect(stderrLines(unknown)).toEqual(['owlat: unknown option --auto-updates: see --help'])
    const as = await config('--pause-until', '2099-01-01', '--as', 'not-an-email')
    expect(as.exitCode).toBe(2)
    expect(stderrLines(as)).toEqual(['owlat: --as: must be an email address'])
    expect(await stored()).toEqual(DEFAULT_SETTINGS)
  })

  it('pauses, naming who paused, and resumes', async () => {
    const until = Date.parse('2099-01-06T07:00:00Z')
    const paused = await config('--pause-until', '2099-01-06T08:00+01:00', '--as', 'Ops@Example.test')
    expect(paused.exitCode, paused.stderr).toBe(0)
    expect(paused.stdout).toMatch(/^Paused {19}until 2099-01-06 \d\d:\d\d:00 \S+ by ops@example\.test$/m)
    expect(await stored()).toMatchObject({ pausedUntil: until, pausedBy: 'ops@example.test' })

    // Without --as the shell's user@host is recorded, marked as coming from the CLI; UTC without an offset.
    const again = await config('--pause-until', '2099-02-01')
    expect(again.exitCode, again.stderr).toBe(0)
    const settings = await stored()
    expect(settings.pausedUntil).toBe(Date.parse('2099-02-01T00:00:00Z'))
    expect(settings.pausedBy).toMatch(/ \(owlat config\)$|^owlat config$/)

    const resumed = await config('--resume')
    expect(resumed.exitCode, resumed.stderr).toBe(0)
    expect(resumed.stdout).toContain('Paused                   no')
    expect(await stored()).toMatchObject({ pausedUntil: null, pausedBy: null })
  })
})
