/**
 * `owlat config`: the automatic update policy (issue 17) from the command line, read from and
 * written straight into the web's store as `owlat admin` does (the SQLite file in OWLAT_DATA_DIR,
 * or Convex), so it works while the web is down too. Without options it prints the settings; with
 * some it changes only what they name, validated by the schema `PUT /api/system/settings` uses
 * (shared/schemas/api.ts, shared/auto-update.ts): bad input is a usage error and nothing is saved.
 */
import { defineCommand, type ArgsDef } from 'citty'
import { DateTime } from 'luxon'
import { z } from 'zod'
import { currentWindow, describeTime, nextWindowStart, type MaintenanceWindow } from '../../shared/auto-update'
import { settingsChangeBy, settingsPatchSchema, type Settings, type SettingsPatch } from '../../shared/schemas/api'
import { openCliWebStore } from '../web-store'
import { validateArgs } from '../args'
import { cliRequester } from '../context'
import { CliError, usageError } from '../errors'
import { formatTime, printLine } from '../job-view'
import { bold } from '../style'

const configArgs = {
  'auto-update': { type: 'string', valueHint: 'off|security|patch|minor', description: 'What is installed on its own: nothing, security releases, patch releases (and security ones), or minor and patch releases; never a new major version' },
  'window-days': { type: 'string', valueHint: 'mon,sun', description: 'The maintenance window\'s days, comma separated (mon … sun). A new window needs --window-days, --window-start and --window-duration; an existing one changes only what is given' },
  'window-start': { type: 'string', valueHint: 'HH:MM', description: 'When the window opens on each of its days, in its time zone' },
  'window-duration': { type: 'string', valueHint: 'minutes', description: 'How long the window stays open, 1 to 1440 minutes' },
  'time-zone': { type: 'string', valueHint: 'zone', description: 'The window\'s IANA time zone (Europe/Berlin); a new window without it is in UTC' },
  'window': { type: 'boolean', default: true, description: 'Remove the maintenance window: an allowed release is installed as soon as it is seen' },
  'security-outside-window': { type: 'boolean', description: 'Let a security release be installed outside the window (--security-outside-window=false or --no-security-outside-window: wait for it)' },
  'pause-until': { type: 'string', valueHint: 'date-time', description: 'Install nothing automatically before this ISO 8601 time (2026-01-06T08:00+01:00; UTC without an offset)' },
  'resume': { type: 'boolean', description: 'End a pause now' },
  'channel': { type: 'string', valueHint: 'stable|beta', description: 'The release channel followed' },
  'as': { type: 'string', valueHint: 'email', description: 'Who made the change, recorded as who paused and in the audit trail (default: user@host of this shell)' },
  'json': { type: 'boolean', description: 'Print the settings as JSON' },
} satisfies ArgsDef

/** The options only as the command line gives them: the values are judged by the settings schema. */
const configSchema = z.object({
  'auto-update': z.string().optional(),
  'window-days': z.string().optional(),
  'window-start': z.string().optional(),
  'window-duration': z.string().optional(),
  'time-zone': z.string().optional(),
  'window': z.boolean().default(true),
  'security-outside-window': z.boolean().optional(),
  'pause-until': z.string().optional(),
  'resume': z.boolean().default(false),
  'channel': z.string().optional(),
  'as': z.email('must be an email address').max(320).transform(e => e.toLowerCase()).optional(),
  'json': z.boolean().default(false),
})
type ConfigArgs = z.output<typeof configSchema>

const WINDOW_FLAGS = ['window-days', 'window-start', 'window-duration', 'time-zone'] as const

/** The option a field of the settings patch came from, for the error line. */
const FLAG_OF: Record<string, string> = {
  'autoUpdate': '--auto-update',
  'channel': '--channel',
  'securityOutsideWindow': '--security-outside-window',
  'pausedUntil': '--pause-until',
  'maintenanceWindow': '--window-*',
  'maintenanceWindow.days': '--window-days',
  'maintenanceWindow.start': '--window-start',
  'maintenanceWindow.durationMinutes': '--window-duration',
  'maintenanceWindow.timeZone': '--time-zone',
}

const NOTHING_SAVED = 'nothing was changed'

function parsePauseUntil(value: string, now: number): number {
  // An offset in the text wins; without one the time is UTC, whatever the shell's TZ.
  const at = DateTime.fromISO(value.trim(), { zone: 'utc' })
  if (!at.isValid) throw usageError(`--pause-until: "${value}" is not an ISO 8601 date or date-time (2026-01-06T08:00+01:00); ${NOTHING_SAVED}`)
  if (at.toMillis() <= now) throw usageError(`--pause-until: ${at.toISO()} is not in the future; ${NOTHING_SAVED}`)
  return at.toMillis()
}

/** A number when it reads as one, else the text, so the shared schema says what is wrong with it. */
function minutes(value: string): number | string {
  return /^\s*-?\d+(\.\d+)?\s*$/.test(value) ? Number(value) : value
}

/**
 * The window the options ask for: merged into the current one, or a new one that names its days,
 * start and duration. Undefined when no window option is given; null for `--no-window`.
 */
function windowChange(args: ConfigArgs, current: MaintenanceWindow | null): Record<string, unknown> | null | undefined {
  const given = WINDOW_FLAGS.filter(flag => args[flag] !== undefined)
  if (!args.window) {
    if (given.length > 0) throw usageError(`--no-window cannot go with --${given[0]}; ${NOTHING_SAVED}`)
    return null
  }
  if (given.length === 0) return undefined
  const missing = (['window-days', 'window-start', 'window-duration'] as const).filter(flag => args[flag] === undefined)
  if (!current && missing.length > 0) {
    throw usageError(`there is no maintenance window to change: a new one needs --window-days, --window-start and --window-duration (--time-zone defaults to UTC), and ${missing.map(f => `--${f}`).join(', ')} ${missing.length === 1 ? 'is' : 'are'} missing; ${NOTHING_SAVED}`)
  }
  const days = args['window-days']
  const start = args['window-start']
  const duration = args['window-duration']
  const zone = args['time-zone']
  return {
    ...(current ?? { timeZone: 'UTC' }),
    ...(days === undefined ? {} : { days: days.split(',').map(day => day.trim().toLowerCase()) }),
    ...(start === undefined ? {} : { start: start.trim() }),
    ...(duration === undefined ? {} : { durationMinutes: minutes(duration) }),
    ...(zone === undefined ? {} : { timeZone: zone }),
  }
}

/** The settings patch the options ask for, validated by the web's own schema; null when none is given. */
function settingsChange(args: ConfigArgs, current: Settings, now: number): SettingsPatch | null {
  if (args['pause-until'] !== undefined && args.resume) throw usageError(`--pause-until and --resume cannot go together; ${NOTHING_SAVED}`)
  const raw: Record<string, unknown> = {}
  if (args['auto-update'] !== undefined) raw.autoUpdate = args['auto-update'].trim()
  if (args.channel !== undefined) raw.channel = args.channel.trim()
  if (args['security-outside-window'] !== undefined) raw.securityOutsideWindow = args['security-outside-window']
  const window = windowChange(args, current.maintenanceWindow)
  if (window !== undefined) raw.maintenanceWindow = window
  if (args['pause-until'] !== undefined) raw.pausedUntil = parsePauseUntil(args['pause-until'], now)
  if (args.resume) raw.pausedUntil = null
  if (Object.keys(raw).length === 0) return null

  const parsed = settingsPatchSchema.safeParse(raw)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!
    const path = issue.path.filter(part => typeof part === 'string').join('.')
    const flag = FLAG_OF[path] ?? FLAG_OF[String(issue.path[0])] ?? 'arguments'
    throw usageError(`${flag}: ${issue.message}; ${NOTHING_SAVED}`)
  }
  return parsed.data
}

/** Who the change is recorded as: `--as`, else the shell's user@host, marked as coming from here. */
function actorOf(args: ConfigArgs): string {
  if (args.as) return args.as
  const who = cliRequester().email
  return who ? `${who} (owlat config)`.slice(0, 320) : 'owlat config'
}

function describeWindow(window: MaintenanceWindow | null): string {
  if (!window) return 'none (an allowed release is installed as soon as it is seen)'
  return `${window.days.join(', ')} at ${window.start} for ${window.durationMinutes} min (${window.timeZone})`
}

function printSettings(settings: Settings, now: number): void {
  const zone = settings.maintenanceWindow?.timeZone ?? 'UTC'
  const paused = settings.pausedUntil !== null && settings.pausedUntil > now
  const rows: [string, string][] = [
    ['Automatic updates', bold(settings.autoUpdate)],
    ['Maintenance window', describeWindow(settings.maintenanceWindow)],
    ['Security outside window', settings.securityOutsideWindow ? 'yes' : 'no'],
    ['Paused', paused ? `until ${formatTime(settings.pausedUntil!)}${settings.pausedBy ? ` by ${settings.pausedBy}` : ''}` : 'no'],
    ['Channel', settings.channel],
  ]
  if (settings.maintenanceWindow) {
    const open = currentWindow(settings.maintenanceWindow, now)
    rows.push(open
      ? ['Window', `open now, until ${describeTime(open.end, zone, { now })}`]
      : ['Next window opens', describeTime(nextWindowStart(settings.maintenanceWindow, now), zone, { now })])
  }
  const width = Math.max(...rows.map(([label]) => label.length))
  for (const [label, value] of rows) printLine(`${label.padEnd(width)}  ${value}`)
}

export const configCommand = defineCommand({
  meta: { name: 'config', description: 'Show or change the automatic update policy (maintenance window, pause, channel)' },
  args: configArgs,
  async run(ctx) {
    const args = validateArgs(ctx, configArgs, configSchema)
    const { store, where } = openCliWebStore()
    const now = Date.now()
    let doing = 'read'
    try {
      let settings = await store.getSettings()
      const patch = settingsChange(args, settings, now)
      if (patch) {
        doing = 'change'
        const actor = actorOf(args)
        settings = await store.updateSettings(settingsChangeBy(patch, actor), actor)
      }
      if (args.json) {
        printLine(JSON.stringify(settings, null, 2))
        return
      }
      if (patch) printLine(`Settings saved in ${where}.`)
      printSettings(settings, now)
    }
    catch (err) {
      if (err instanceof CliError) throw err
      throw new CliError(`cannot ${doing} the settings in ${where}: ${(err as Error).message}`)
    }
    finally {
      await store.close()
    }
  },
})
