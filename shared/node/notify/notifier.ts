/**
 * The two channels behind one outbox (issue 17): which targets an event goes to (every webhook
 * URL; the mailbox of each platform admin whose preference wants it) and the one deliver function
 * the outbox calls for either kind of target. Node only.
 */
import { wantsNotification, type Notification, type NotificationEvent, type NotificationPreference } from '../../notifications'
import { mailConfigFromEnv, sendMail, type MailConfig } from './mail'
import { deliverWebhook, webhookConfigFromEnv, type WebhookConfig } from './webhooks'
import type { DeliverFn } from './outbox'

export const MAIL_TARGET_PREFIX = 'mailto:'

export interface NotifyConfig {
  /** Null: OWLAT_WEBHOOK_URLS unset, no webhook is sent. */
  webhooks: WebhookConfig | null
  /** Null: OWLAT_SMTP_URL unset, no mail is sent. */
  mail: MailConfig | null
}

/**
 * OWLAT_WEBHOOK_URLS, OWLAT_WEBHOOK_SECRET, OWLAT_SMTP_URL and OWLAT_SMTP_FROM, each checked;
 * throws one error naming every bad variable (the values themselves never: they hold secrets).
 */
export function notifyConfigFromEnv(env: NodeJS.ProcessEnv = process.env): NotifyConfig {
  const problems: string[] = []
  const attempt = <T>(read: () => T): T | null => {
    try {
      return read()
    }
    catch (err) {
      problems.push(err instanceof Error ? err.message : String(err))
      return null
    }
  }
  const config = { webhooks: attempt(() => webhookConfigFromEnv(env)), mail: attempt(() => mailConfigFromEnv(env)) }
  if (problems.length > 0) throw new Error(`invalid notification settings: ${problems.join('; ')}`)
  return config
}

export function mailTarget(address: string): string {
  return `${MAIL_TARGET_PREFIX}${address.trim().toLowerCase()}`
}

export interface Recipient {
  email: string
  preference: NotificationPreference
}

/**
 * Where `event` goes: every webhook URL (a webhook is the operator's, not an admin's, and hears
 * everything), and `mailto:` each admin whose preference wants the event, when mail is set up.
 */
export function notificationTargets(config: NotifyConfig, event: NotificationEvent, admins: readonly Recipient[]): string[] {
  const targets = [...(config.webhooks?.urls ?? [])]
  if (config.mail) {
    for (const admin of admins) {
      const target = mailTarget(admin.email)
      if (wantsNotification(admin.preference, event) && !targets.includes(target)) targets.push(target)
    }
  }
  return targets
}

export interface DelivererOptions {
  systemPath?: string
  webhookTimeoutMs?: number
  smtpTimeoutMs?: number
}

/**
 * The outbox's deliver function for this configuration: a webhook URL gets the signed POST, a
 * `mailto:` target one mail. A target whose channel is no longer configured fails (and is given
 * up after the outbox's attempts), saying which variable is missing.
 */
export function createDeliverer(config: NotifyConfig, options: DelivererOptions = {}): DeliverFn {
  return async (target: string, notification: Notification) => {
    if (target.startsWith(MAIL_TARGET_PREFIX)) {
      if (!config.mail) throw new Error('OWLAT_SMTP_URL is not set: mail cannot be sent')
      const to = decodeURIComponent(target.slice(MAIL_TARGET_PREFIX.length))
      return sendMail(config.mail.url, [to], notification, { from: config.mail.from, systemPath: options.systemPath, timeoutMs: options.smtpTimeoutMs })
    }
    if (/^https?:\/\//i.test(target)) {
      if (!config.webhooks) throw new Error('OWLAT_WEBHOOK_URLS and OWLAT_WEBHOOK_SECRET are not set: webhooks cannot be sent')
      return deliverWebhook(target, notification, config.webhooks.secret, { timeoutMs: options.webhookTimeoutMs })
    }
    throw new Error(`unknown notification target ${target.split(':')[0]}:…`)
  }
}
