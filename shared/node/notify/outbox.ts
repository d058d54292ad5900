/**
 * The notification outbox (issue 17): every (notification, target) pair is written to a store
 * first and delivered from there, so each event reaches each webhook URL and each admin's mailbox
 * once, retried with back-off, across restarts and with several web replicas on one store.
 * Targets are strings: a webhook's `https://…` URL or `mailto:admin@example.com` (./notifier.ts
 * sends to either). The store is an interface: `MemoryOutboxStore` here for tests,
 * `SqliteOutboxStore` (./sqlite-outbox.ts) for the embedded store; Convex can implement the same.
 *
 * Delivery is at least once at the wire: a process that dies after the receiver accepted but
 * before `markDelivered` delivers again once its claim lapses. Receivers drop repeats by the
 * notification's id (`X-Owlat-Webhook-Id`, the mail's Message-ID).
 */
import type { Notification, StoredDelivery } from '../../notifications'

type Awaitable<T> = T | Promise<T>

/** A delivery as the outbox hands it out: the stored pair (`storedDeliverySchema`), its notification parsed. */
export type OutboxDelivery = Omit<StoredDelivery, 'notification'> & { notification: Notification }

/** What enqueuing gives; `nextAttemptAt` is when to try first (usually `createdAt`). */
export type NewDelivery = Pick<OutboxDelivery, 'notificationId' | 'target' | 'notification' | 'createdAt' | 'nextAttemptAt'>

/** What the outbox needs of a store; each call atomic on its own. */
export interface OutboxStore {
  /** Adds the delivery unless one for the same (notificationId, target) exists; true when added. */
  enqueue(delivery: NewDelivery): Awaitable<boolean>
  /**
   * Up to `limit` pending deliveries (not delivered, not given up) with `nextAttemptAt <= now`,
   * oldest first, claimed: their `attempts` counted and `nextAttemptAt` moved to `claimUntil`, in
   * one atomic step, so another outbox on the same store does not take them meanwhile.
   */
  due(now: number, limit: number, claimUntil: number): Awaitable<OutboxDelivery[]>
  markDelivered(id: string, at: number): Awaitable<void>
  /**
   * Records a failed attempt: try again at `nextAttemptAt`, or give up (null) keeping `error`.
   * Ignored for a delivery already delivered (a claim that lapsed while another outbox succeeded).
   */
  markFailed(id: string, nextAttemptAt: number | null, error: string, at: number): Awaitable<void>
  /** Every delivery of a notification (for the page and tests). */
  deliveriesOf(notificationId: string): Awaitable<OutboxDelivery[]>
}

export interface BackoffOptions {
  /** The wait after the first failure; each further failure doubles it. */
  baseDelayMs?: number
  maxDelayMs?: number
  /** Attempts before giving up, the first included. */
  maxAttempts?: number
}

export const DEFAULT_BACKOFF: Required<BackoffOptions> = { baseDelayMs: 10_000, maxDelayMs: 60 * 60_000, maxAttempts: 10 }

/** The wait after the `attempt`-th failed attempt (1-based): 10 s, 20 s, 40 s, … at most an hour. */
export function backoffDelay(attempt: number, options: BackoffOptions = {}): number {
  const { baseDelayMs, maxDelayMs } = { ...DEFAULT_BACKOFF, ...options }
  return Math.min(maxDelayMs, baseDelayMs * 2 ** Math.max(0, attempt - 1))
}

export type DeliverFn = (target: string, notification: Notification) => Promise<unknown>

export interface OutboxOptions extends BackoffOptions {
  store: OutboxStore
  deliver: DeliverFn
  now?: () => number
  /** How long a claim holds; longer than the slowest delivery (the webhook and SMTP timeouts). */
  claimMs?: number
  /** Deliveries taken per pass. */
  batchSize?: number
  /** Told of each failure (for the log); `gaveUp` when it was the last attempt. */
  onFailure?: (delivery: OutboxDelivery, error: string, gaveUp: boolean) => void
  /** Told when a whole pass failed (the store could not be read); the next pass tries again. */
  onError?: (error: string) => void
}

export interface PassResult {
  delivered: OutboxDelivery[]
  retrying: Array<{ delivery: OutboxDelivery, error: string, nextAttemptAt: number }>
  gaveUp: Array<{ delivery: OutboxDelivery, error: string }>
}

function messageOf(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).slice(0, 2000)
}

export class Outbox {
  private readonly store: OutboxStore
  private readonly deliverTo: DeliverFn
  private readonly now: () => number
  private readonly backoff: Required<BackoffOptions>
  private readonly claimMs: number
  private readonly batchSize: number
  private readonly onFailure: OutboxOptions['onFailure']
  private readonly onError: OutboxOptions['onError']
  private timer: ReturnType<typeof setInterval> | null = null
  private running: Promise<unknown> | null = null
  private again = false

  constructor(options: OutboxOptions) {
    this.store = options.store
    this.deliverTo = options.deliver
    this.now = options.now ?? Date.now
    this.backoff = {
      baseDelayMs: options.baseDelayMs ?? DEFAULT_BACKOFF.baseDelayMs,
      maxDelayMs: options.maxDelayMs ?? DEFAULT_BACKOFF.maxDelayMs,
      maxAttempts: options.maxAttempts ?? DEFAULT_BACKOFF.maxAttempts,
    }
    this.claimMs = options.claimMs ?? 2 * 60_000
    this.batchSize = options.batchSize ?? 20
    this.onFailure = options.onFailure
    this.onError = options.onError
  }

  /**
   * Queues `notification` for each target (repeats of a pair already queued are ignored, so the
   * same event raised twice, by two replicas or a retried task, goes out once). Returns how many
   * were new. Delivery happens on the next pass (`deliverDue`, or at once when started).
   */
  async enqueue(notification: Notification, targets: readonly string[]): Promise<number> {
    const at = this.now()
    let added = 0
    for (const target of new Set(targets)) {
      if (await this.store.enqueue({ notificationId: notification.id, target, notification, createdAt: at, nextAttemptAt: at })) added++
    }
    if (added > 0 && this.timer) this.kick()
    return added
  }

  /** One pass: claims what is due and tries each, recording the outcome. */
  async deliverDue(): Promise<PassResult> {
    const now = this.now()
    const claimed = await this.store.due(now, this.batchSize, now + this.claimMs)
    const result: PassResult = { delivered: [], retrying: [], gaveUp: [] }
    await Promise.all(claimed.map(async (delivery) => {
      try {
        await this.deliverTo(delivery.target, delivery.notification)
      }
      catch (err) {
        const error = messageOf(err)
        const failedAt = this.now()
        const gaveUp = delivery.attempts >= this.backoff.maxAttempts
        const nextAttemptAt = gaveUp ? null : failedAt + backoffDelay(delivery.attempts, this.backoff)
        await this.store.markFailed(delivery.id, nextAttemptAt, error, failedAt)
        if (nextAttemptAt === null) result.gaveUp.push({ delivery, error })
        else result.retrying.push({ delivery, error, nextAttemptAt })
        this.onFailure?.(delivery, error, gaveUp)
        return
      }
      await this.store.markDelivered(delivery.id, this.now())
      result.delivered.push(delivery)
    }))
    return result
  }

  /** Passes until nothing is due right now (a backlog larger than one batch). */
  async drain(): Promise<PassResult> {
    const total: PassResult = { delivered: [], retrying: [], gaveUp: [] }
    for (;;) {
      const pass = await this.deliverDue()
      total.delivered.push(...pass.delivered)
      total.retrying.push(...pass.retrying)
      total.gaveUp.push(...pass.gaveUp)
      if (pass.delivered.length + pass.retrying.length + pass.gaveUp.length < this.batchSize) return total
    }
  }

  /** Delivers every `intervalMs` (and at once after an enqueue) until `stop()`. */
  start(intervalMs = 5_000): void {
    if (this.timer) return
    this.timer = setInterval(() => this.kick(), intervalMs)
    this.timer.unref?.()
    this.kick()
  }

  /** Stops the timer and waits for a pass in flight. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer)
    this.timer = null
    this.again = false
    await this.running?.catch(() => {})
  }

  private kick(): void {
    // One pass at a time per outbox; a kick during a pass runs one more after it.
    if (this.running) {
      this.again = true
      return
    }
    this.running = this.drain()
      .catch(err => this.onError?.(`outbox pass failed: ${messageOf(err)}`))
      .finally(() => {
        this.running = null
        if (this.again && this.timer) {
          this.again = false
          this.kick()
        }
      })
  }
}

/** The reference store: what the contract says, in memory. For tests and as the model for others. */
export class MemoryOutboxStore implements OutboxStore {
  private readonly rows = new Map<string, OutboxDelivery>()
  private seq = 0

  enqueue(delivery: NewDelivery): boolean {
    for (const row of this.rows.values()) {
      if (row.notificationId === delivery.notificationId && row.target === delivery.target) return false
    }
    const id = `d${++this.seq}`
    this.rows.set(id, { ...structuredClone(delivery), id, attempts: 0, deliveredAt: null, gaveUpAt: null, lastError: null })
    return true
  }

  due(now: number, limit: number, claimUntil: number): OutboxDelivery[] {
    const due = [...this.rows.values()]
      .filter(r => r.deliveredAt === null && r.gaveUpAt === null && r.nextAttemptAt <= now)
      .sort((a, b) => a.nextAttemptAt - b.nextAttemptAt || a.createdAt - b.createdAt)
      .slice(0, limit)
    for (const row of due) {
      row.attempts += 1
      row.nextAttemptAt = claimUntil
    }
    return due.map(r => structuredClone(r))
  }

  markDelivered(id: string, at: number): void {
    const row = this.rows.get(id)
    if (row) Object.assign(row, { deliveredAt: at, gaveUpAt: null, lastError: null })
  }

  markFailed(id: string, nextAttemptAt: number | null, error: string, at: number): void {
    const row = this.rows.get(id)
    if (!row || row.deliveredAt !== null) return
    row.lastError = error
    if (nextAttemptAt === null) row.gaveUpAt = at
    else row.nextAttemptAt = nextAttemptAt
  }

  deliveriesOf(notificationId: string): OutboxDelivery[] {
    return [...this.rows.values()].filter(r => r.notificationId === notificationId).map(r => structuredClone(r))
  }
}
