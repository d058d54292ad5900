/**
 * Webhooks (issue 17, DESIGN.md pinned contracts): a POST of the notification as JSON, signed
 * with `X-Owlat-Webhook-Signature: sha256=<hex HMAC-SHA256 of the raw body>` under
 * OWLAT_WEBHOOK_SECRET, and `X-Owlat-Webhook-Id` for the receiver to drop a repeat. Retries and
 * once-only delivery are the outbox's (./outbox.ts). Node only.
 */
import { createHmac, timingSafeEqual } from 'node:crypto'
import { webhookUrlProblem, type Notification } from '../../notifications'

export const WEBHOOK_SIGNATURE_HEADER = 'X-Owlat-Webhook-Signature'
export const WEBHOOK_ID_HEADER = 'X-Owlat-Webhook-Id'
export const WEBHOOK_EVENT_HEADER = 'X-Owlat-Webhook-Event'
/** Long enough for a slow receiver, short enough that one dead URL does not hold up the outbox. */
export const DEFAULT_WEBHOOK_TIMEOUT_MS = 10_000
/** Same floor as OWLAT_INSTANCE_SECRET: shorter secrets can be guessed from signed bodies. */
export const MIN_WEBHOOK_SECRET_LENGTH = 16

export interface WebhookConfig {
  urls: string[]
  secret: string
}

/**
 * OWLAT_WEBHOOK_URLS: comma separated http(s) URLs (blanks and repeats dropped). Throws one error
 * naming the first bad entry (its scheme and host only: a webhook's path is often its secret).
 */
export function parseWebhookUrls(value: string | undefined): string[] {
  const urls: string[] = []
  const items = (value ?? '').split(',').map(s => s.trim()).filter(Boolean)
  items.forEach((item, index) => {
    const problem = webhookUrlProblem(item)
    if (problem) throw new Error(`OWLAT_WEBHOOK_URLS: entry ${index + 1} of ${items.length}, ${problem}`)
    const url = new URL(item).href
    if (!urls.includes(url)) urls.push(url)
  })
  return urls
}

/**
 * Webhooks from the environment: null when OWLAT_WEBHOOK_URLS is unset or empty (none are sent).
 * With URLs, OWLAT_WEBHOOK_SECRET is required: an unsigned webhook could be forged by anyone.
 */
export function webhookConfigFromEnv(env: NodeJS.ProcessEnv = process.env): WebhookConfig | null {
  const urls = parseWebhookUrls(env.OWLAT_WEBHOOK_URLS)
  if (urls.length === 0) return null
  const secret = env.OWLAT_WEBHOOK_SECRET?.trim() ?? ''
  if (!secret) throw new Error('OWLAT_WEBHOOK_SECRET is required when OWLAT_WEBHOOK_URLS is set')
  if (secret.length < MIN_WEBHOOK_SECRET_LENGTH) throw new Error(`OWLAT_WEBHOOK_SECRET must be at least ${MIN_WEBHOOK_SECRET_LENGTH} characters`)
  return { urls, secret }
}

/** `sha256=<hex HMAC-SHA256 of rawBody with secret>`, the value of X-Owlat-Webhook-Signature. */
export function signWebhook(rawBody: string | Uint8Array, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(rawBody).digest('hex')}`
}

/** What a receiver does: whether `signature` is the one for these exact bytes, compared in constant time. */
export function verifyWebhookSignature(rawBody: string | Uint8Array, secret: string, signature: string | null | undefined): boolean {
  if (!signature) return false
  const expected = Buffer.from(signWebhook(rawBody, secret))
  const given = Buffer.from(signature)
  return given.length === expected.length && timingSafeEqual(given, expected)
}

/** A delivery the receiver did not accept (or never answered); `status` is null without an answer. */
export class WebhookDeliveryError extends Error {
  constructor(message: string, readonly status: number | null, options?: ErrorOptions) {
    super(message, options)
    this.name = 'WebhookDeliveryError'
  }
}

export interface DeliverWebhookOptions {
  timeoutMs?: number
  /** For tests; the global fetch otherwise. */
  fetch?: typeof globalThis.fetch
}

/**
 * POSTs `notification` to `url`, signed. Resolves on a 2xx answer; anything else (another status,
 * a redirect, which is not followed, a timeout, a refused connection) rejects with
 * `WebhookDeliveryError`. The body is serialised once and those bytes are what is signed and sent.
 */
export async function deliverWebhook(url: string, notification: Notification, secret: string, options: DeliverWebhookOptions = {}): Promise<{ status: number }> {
  const body = JSON.stringify(notification)
  const timeoutMs = options.timeoutMs ?? DEFAULT_WEBHOOK_TIMEOUT_MS
  const doFetch = options.fetch ?? globalThis.fetch
  const where = new URL(url).host
  let response: Response
  try {
    response = await doFetch(url, {
      method: 'POST',
      body,
      // Following a redirect would send the signed event somewhere no one configured.
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
      headers: {
        'Content-Type': 'application/json',
        'User-Agent': 'Owlat-Webhook/1',
        [WEBHOOK_ID_HEADER]: notification.id,
        [WEBHOOK_EVENT_HEADER]: notification.event,
        [WEBHOOK_SIGNATURE_HEADER]: signWebhook(body, secret),
      },
    })
  }
  catch (err) {
    const timedOut = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')
    const cause = err instanceof Error ? ((err.cause as Error | undefined)?.message ?? err.message) : String(err)
    throw new WebhookDeliveryError(timedOut ? `${where} did not answer within ${timeoutMs} ms` : `${where} could not be reached: ${cause}`, null, { cause: err })
  }
  // The answer's body is not needed; reading it frees the connection.
  const answer = (await response.text().catch(() => '')).slice(0, 200).trim()
  if (response.status < 200 || response.status >= 300) {
    const detail = response.status >= 300 && response.status < 400 ? ' (redirects are not followed)' : answer ? `: ${answer}` : ''
    throw new WebhookDeliveryError(`${where} answered ${response.status}${detail}`, response.status)
  }
  return { status: response.status }
}
