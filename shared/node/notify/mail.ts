/**
 * Email notifications (issue 17): OWLAT_SMTP_URL (`smtp://` or `smtps://`, user and password in
 * the URL, nodemailer's options in its query) and OWLAT_SMTP_FROM; each mail plain text plus
 * HTML with a link to the page (shared/notifications.ts). Sent with nodemailer. Node only.
 */
import { createHash } from 'node:crypto'
import nodemailer from 'nodemailer'
import addressparser from 'nodemailer/lib/addressparser'
import { notificationText, smtpUrlProblem, type Notification } from '../../notifications'

/** The sender when OWLAT_SMTP_FROM is unset and the SMTP user is no address; set it in production. */
export const FALLBACK_SMTP_FROM = 'Owlat <owlat@localhost>'
/** Connecting, the greeting and each command: a mail server that hangs must not hold the outbox. */
export const DEFAULT_SMTP_TIMEOUT_MS = 15_000

export interface MailConfig {
  url: string
  from: string
}

/** Throws when `value` is not an SMTP URL with a host ("OWLAT_SMTP_URL has no host"); the URL itself is never echoed. */
export function parseSmtpUrl(value: string): string {
  const url = value.trim()
  const problem = smtpUrlProblem(url)
  if (problem) throw new Error(problem)
  return url
}

/** One address, with or without a name (`Owlat <owlat@example.com>`); throws otherwise. */
export function parseMailFrom(value: string, name = 'OWLAT_SMTP_FROM'): string {
  const parsed = addressparser(value.trim(), { flatten: true })
  if (parsed.length !== 1 || !/^[^@\s]+@[^@\s]+$/.test(parsed[0]!.address)) {
    throw new Error(`${name} must be one email address such as "Owlat <owlat@example.com>"`)
  }
  return value.trim()
}

/** The sender: the SMTP user when it is an address (what most providers require), else the fallback. */
function defaultFrom(smtpUrl: string): string {
  const user = decodeURIComponent(new URL(smtpUrl).username)
  return /^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(user) ? `Owlat <${user}>` : FALLBACK_SMTP_FROM
}

/** Email from the environment: null when OWLAT_SMTP_URL is unset or empty (no mail is sent). */
export function mailConfigFromEnv(env: NodeJS.ProcessEnv = process.env): MailConfig | null {
  const raw = env.OWLAT_SMTP_URL?.trim()
  if (!raw) return null
  const url = parseSmtpUrl(raw)
  const from = env.OWLAT_SMTP_FROM?.trim() ? parseMailFrom(env.OWLAT_SMTP_FROM) : defaultFrom(url)
  return { url, from }
}

export interface SendMailOptions {
  from?: string
  /** Where the module's page is mounted (the host's `owlatSystem.path`). */
  systemPath?: string
  timeoutMs?: number
}

export interface SentMail {
  messageId: string
  accepted: string[]
  rejected: string[]
}

/**
 * The Message-ID of one notification to one set of recipients: the same on every retry, so a
 * mail that did arrive before a lost answer is told apart by clients and mail servers.
 */
function messageIdOf(notification: Notification, to: readonly string[]): string {
  const digest = createHash('sha256').update(`${notification.id}\n${[...to].sort().join(',')}`).digest('hex').slice(0, 32)
  return `<${digest}@owlat.notifications>`
}

/**
 * Sends `notification` to `to` through the SMTP server of `transportUrl`. Resolves once the server
 * accepted it for every recipient; rejects when it refuses any (or cannot be reached), so the
 * outbox tries again.
 */
export async function sendMail(transportUrl: string, to: readonly string[], notification: Notification, options: SendMailOptions = {}): Promise<SentMail> {
  const url = parseSmtpUrl(transportUrl)
  if (to.length === 0) throw new Error('no recipients')
  const timeout = options.timeoutMs ?? DEFAULT_SMTP_TIMEOUT_MS
  const { subject, text, html } = notificationText(notification, { systemPath: options.systemPath })
  const transport = nodemailer.createTransport({ url, connectionTimeout: timeout, greetingTimeout: timeout, socketTimeout: timeout })
  try {
    const info = await transport.sendMail({
      from: options.from ?? defaultFrom(url),
      to: [...to],
      subject,
      text,
      html,
      messageId: messageIdOf(notification, to),
      headers: { 'X-Owlat-Notification-Id': notification.id, 'X-Owlat-Event': notification.event },
    })
    const addresses = (list: unknown[] | undefined) => (list ?? []).map(a => (typeof a === 'string' ? a : (a as { address: string }).address))
    const rejected = addresses(info.rejected)
    if (rejected.length > 0) throw new Error(`the mail server refused ${rejected.join(', ')}`)
    return { messageId: info.messageId, accepted: addresses(info.accepted), rejected }
  }
  finally {
    transport.close()
  }
}
