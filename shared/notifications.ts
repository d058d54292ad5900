/**
 * Notifications (issue 17): what happened, as one record that goes out unchanged as a webhook's
 * JSON body `{ id, event, occurredAt, instance, data }` and is rendered into an email; each
 * admin's preference; and the checks on the channels' addresses (OWLAT_WEBHOOK_URLS,
 * OWLAT_SMTP_URL) that the env parsers and the settings API share. Browser-safe.
 */
import { z } from 'zod'
import { channelSchema, severitySchema, versionSchema } from './schemas/common'

export const NOTIFICATION_EVENTS = [
  'release-available',
  'security-release-available',
  'update-started',
  'update-succeeded',
  'update-rolled-back',
  'update-failed',
  'auto-update-skipped',
] as const
export const notificationEventSchema = z.enum(NOTIFICATION_EVENTS)
export type NotificationEvent = (typeof NOTIFICATION_EVENTS)[number]

/** Which instance speaks: a name for subjects, where the page is (for links; null when unknown), what it runs. */
export const notificationInstanceSchema = z.object({
  name: z.string().trim().min(1).max(200),
  url: z.url({ protocol: /^https?$/ }).nullable(),
  version: z.string().max(64),
})
export type NotificationInstance = z.infer<typeof notificationInstanceSchema>

// Data objects are loose: a later sender may add fields, and receivers built for today's keep working.
const releaseData = z.looseObject({
  version: versionSchema,
  currentVersion: z.string(),
  channel: channelSchema,
  severity: severitySchema,
  publishedAt: z.string().nullable().optional(),
})

const runData = z.looseObject({
  /** The run's id: the page's and the updater's (`owlat logs --job ID`). */
  runId: z.string().min(1),
  kind: z.enum(['update', 'rollback']).default('update'),
  fromVersion: z.string(),
  toVersion: z.string(),
  /** Who asked: `schedule` for an automatic update. */
  via: z.enum(['web', 'cli', 'schedule', 'system']).optional(),
  requestedBy: z.string().nullable().optional(),
})

const endedRunData = runData.extend({ reason: z.string() })

export const skippedCheckSchema = z.looseObject({
  id: z.string(),
  status: z.enum(['ok', 'warn', 'fail']),
  message: z.string(),
})

const skippedData = z.looseObject({
  version: z.string(),
  currentVersion: z.string(),
  reason: z.string(),
  /** The plan's checks that stopped it (those that failed, at least). */
  checks: z.array(skippedCheckSchema).default([]),
})

const base = {
  /** Unique per event: a receiver drops a delivery whose id it has seen (`X-Owlat-Webhook-Id`). */
  id: z.string().trim().min(1).max(200),
  occurredAt: z.iso.datetime({ offset: true }),
  instance: notificationInstanceSchema,
}

/** One event's record, its keys in the pinned order `{ id, event, occurredAt, instance, data }`. */
function variant<E extends NotificationEvent, D extends z.ZodType>(event: E, data: D) {
  return z.object({ id: base.id, event: z.literal(event), occurredAt: base.occurredAt, instance: base.instance, data })
}

export const notificationSchema = z.discriminatedUnion('event', [
  variant('release-available', releaseData),
  variant('security-release-available', releaseData),
  variant('update-started', runData),
  variant('update-succeeded', runData),
  variant('update-rolled-back', endedRunData),
  variant('update-failed', endedRunData),
  variant('auto-update-skipped', skippedData),
])
export type Notification = z.output<typeof notificationSchema>
export type NotificationOf<E extends NotificationEvent> = Extract<Notification, { event: E }>
export type NotificationDataInput<E extends NotificationEvent> = z.input<Extract<(typeof notificationSchema)['options'][number], { shape: { event: z.ZodLiteral<E> } }>>['data']

/**
 * One (notification, target) pair of the outbox as a store keeps it, the notification as its JSON
 * text: the SQLite table's rows and the Convex table (its validators derived from this) share it.
 */
export const storedDeliverySchema = z.object({
  id: z.string(),
  notificationId: z.string(),
  /** A webhook URL or `mailto:ADDRESS`. */
  target: z.string(),
  notification: z.string(),
  /** Attempts claimed so far (a claim counts: a crash mid-delivery must not retry forever). */
  attempts: z.number(),
  nextAttemptAt: z.number(),
  createdAt: z.number(),
  deliveredAt: z.number().nullable(),
  /** Set when the outbox gave up; `lastError` keeps why. */
  gaveUpAt: z.number().nullable(),
  lastError: z.string().nullable(),
})
export type StoredDelivery = z.output<typeof storedDeliverySchema>

/** A new notification with a fresh id, validated (throws on data of the wrong shape). */
export function createNotification<E extends NotificationEvent>(
  event: E,
  data: NotificationDataInput<E>,
  options: { instance: NotificationInstance, now?: number, id?: string },
): NotificationOf<E> {
  return notificationSchema.parse({
    id: options.id ?? globalThis.crypto.randomUUID(),
    event,
    occurredAt: new Date(options.now ?? Date.now()).toISOString(),
    instance: options.instance,
    data,
  }) as NotificationOf<E>
}

// --- Preferences ----------------------------------------------------------------------------

export const NOTIFICATION_PREFERENCES = ['all', 'security', 'none'] as const
export const notificationPreferenceSchema = z.enum(NOTIFICATION_PREFERENCES, { message: 'notifications must be all, security or none' })
export type NotificationPreference = (typeof NOTIFICATION_PREFERENCES)[number]
/** Admins hear about everything until they choose otherwise. */
export const DEFAULT_NOTIFICATION_PREFERENCE: NotificationPreference = 'all'

/**
 * What "security only" keeps: security releases, and whatever leaves the instance needing an
 * admin (a rolled-back or failed update, an automatic update skipped by a failing check). Quiet
 * about routine news (a normal release out, an update that started or went well), but no admin
 * who chose it misses a broken update or an instance left behind on a vulnerable version.
 */
export const SECURITY_ONLY_EVENTS: readonly NotificationEvent[] = ['security-release-available', 'update-rolled-back', 'update-failed', 'auto-update-skipped']

export function wantsNotification(preference: NotificationPreference, event: NotificationEvent): boolean {
  if (preference === 'all') return true
  if (preference === 'none') return false
  return SECURITY_ONLY_EVENTS.includes(event)
}

// --- The channels' addresses ----------------------------------------------------------------

/** Scheme, host and port only: a webhook's path or query often is its secret (Slack, Teams). */
function redact(url: string): string {
  try {
    const u = new URL(url)
    return u.host ? `${u.protocol}//${u.host}/…` : `${u.protocol}…`
  }
  catch {
    return url.length > 24 ? `${url.slice(0, 24)}…` : url
  }
}

/** Why `value` is not a webhook URL (an absolute http(s) URL with a host), or null when it is. */
export function webhookUrlProblem(value: string): string | null {
  let url: URL
  try {
    url = new URL(value)
  }
  catch {
    return `"${redact(value)}" is not a URL`
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `"${redact(value)}" is not an http(s) URL`
  if (!url.hostname) return `"${redact(value)}" has no host`
  return null
}

export const webhookUrlSchema = z.string().trim().superRefine((value, ctx) => {
  const problem = webhookUrlProblem(value)
  if (problem) ctx.addIssue({ code: 'custom', message: `webhook URL ${problem}` })
})

/** Why `value` is not an SMTP URL (`smtp://` or `smtps://`, with a host), or null. `name` leads the message. */
export function smtpUrlProblem(value: string, name = 'OWLAT_SMTP_URL'): string | null {
  let url: URL
  try {
    url = new URL(value)
  }
  catch {
    // Credentials and nothing after them do not parse as a URL at all, but the fault is the host.
    if (/^smtps?:\/\/[^/@]*@\/?$/i.test(value)) return `${name} has no host`
    // Never echo it: the URL carries the SMTP password.
    return `${name} is not a URL such as smtp://user:password@mail.example.com:587`
  }
  if (url.protocol !== 'smtp:' && url.protocol !== 'smtps:') {
    // Name the scheme only when it plainly is one (`https://…`), not a host read as a scheme (`mail.example.com:587`).
    return `${name} must start with smtp:// or smtps://${value.startsWith(`${url.protocol}//`) ? ` (not ${url.protocol}//)` : ''}`
  }
  if (!url.hostname) return `${name} has no host`
  return null
}

export const smtpUrlSchema = z.string().trim().superRefine((value, ctx) => {
  const problem = smtpUrlProblem(value)
  if (problem) ctx.addIssue({ code: 'custom', message: problem })
})

// --- In words -------------------------------------------------------------------------------

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, c => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', '\'': '&#39;' })[c]!)
}

export interface NotificationText {
  subject: string
  text: string
  html: string
}

/** Where the System & Updates page is, or a run's page on it; null when the instance's address is unknown. */
export function notificationLink(notification: Notification, systemPath = '/settings/system'): string | null {
  if (!notification.instance.url) return null
  const path = `/${systemPath.replace(/^\/+|\/+$/g, '')}`
  const n = notification
  const runId = n.event === 'update-started' || n.event === 'update-succeeded' || n.event === 'update-rolled-back' || n.event === 'update-failed' ? n.data.runId : null
  const target = runId ? `${path}/runs/${encodeURIComponent(runId)}` : path
  // Appended, not resolved: an instance served under a base path (https://example.com/admin) keeps it.
  return new URL(`${notification.instance.url.replace(/\/+$/, '')}${target}`).href
}

interface Parts {
  headline: string
  lines: string[]
  /** Listed under the lines (a skipped update's failing checks). */
  items?: string[]
}

function partsOf(n: Notification): Parts {
  switch (n.event) {
    case 'release-available':
    case 'security-release-available': {
      const security = n.event === 'security-release-available'
      return {
        headline: `${security ? 'Security release' : 'Owlat'} ${n.data.version} is available`,
        lines: [
          `${n.instance.name} runs ${n.data.currentVersion}; ${n.data.version} is out on the ${n.data.channel} channel.`,
          security ? 'It fixes a security problem: install it soon.' : 'Review its notes and install it when it suits you.',
        ],
      }
    }
    case 'update-started': {
      const what = n.data.kind === 'rollback' ? 'Rolling back' : 'Updating'
      const who = n.data.via === 'schedule' ? 'as an automatic update' : n.data.requestedBy ? `as asked by ${n.data.requestedBy}` : null
      return {
        headline: `${what} to ${n.data.toVersion}`,
        lines: [`${n.instance.name} started going from ${n.data.fromVersion} to ${n.data.toVersion}${who ? ` ${who}` : ''} (run ${n.data.runId}).`],
      }
    }
    case 'update-succeeded':
      return {
        headline: `${n.data.kind === 'rollback' ? 'Rolled back' : 'Updated'} to ${n.data.toVersion}`,
        lines: [`${n.instance.name} now runs ${n.data.toVersion} (from ${n.data.fromVersion}, run ${n.data.runId}).`],
      }
    case 'update-rolled-back':
      return {
        headline: `${n.data.toVersion} failed and ${n.data.fromVersion} was restored`,
        lines: [
          `${n.data.toVersion} did not come up healthy on ${n.instance.name}, so ${n.data.fromVersion} was put back (run ${n.data.runId}).`,
          `Why: ${n.data.reason}`,
          `${n.data.toVersion} is not installed again automatically.`,
        ],
      }
    case 'update-failed':
      return {
        headline: `${n.data.kind === 'rollback' ? 'Rollback' : 'Update'} to ${n.data.toVersion} failed`,
        lines: [`Going from ${n.data.fromVersion} to ${n.data.toVersion} on ${n.instance.name} failed (run ${n.data.runId}).`, `Why: ${n.data.reason}`],
      }
    case 'auto-update-skipped':
      return {
        headline: `Automatic update to ${n.data.version} skipped`,
        lines: [`${n.instance.name} stays on ${n.data.currentVersion}: ${n.data.reason}`],
        items: n.data.checks.filter(c => c.status !== 'ok').map(c => `${c.id} (${c.status}): ${c.message}`),
      }
  }
}

/**
 * The email for a notification: subject, plain text and HTML, with a link to the page (a run's
 * own page for run events). Every value is escaped in the HTML.
 */
export function notificationText(notification: Notification, options: { systemPath?: string } = {}): NotificationText {
  const { headline, lines, items = [] } = partsOf(notification)
  const link = notificationLink(notification, options.systemPath)
  const subject = `[${notification.instance.name}] ${headline}`
  const open = link ? `Open System & Updates: ${link}` : 'Open Settings → System & Updates to see more.'
  const text = [headline, '', ...lines, ...(items.length ? ['', ...items.map(i => `- ${i}`)] : []), '', open, ''].join('\n')
  const html = [
    '<!doctype html><html><body style="font-family: sans-serif">',
    `<h2>${escapeHtml(headline)}</h2>`,
    ...lines.map(line => `<p>${escapeHtml(line)}</p>`),
    ...(items.length ? [`<ul>${items.map(i => `<li>${escapeHtml(i)}</li>`).join('')}</ul>`] : []),
    link
      ? `<p><a href="${escapeHtml(link)}">Open System &amp; Updates</a></p>`
      : '<p>Open Settings → System &amp; Updates to see more.</p>',
    '</body></html>',
  ].join('\n')
  return { subject, text, html }
}
