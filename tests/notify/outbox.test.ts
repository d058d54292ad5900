/**
 * Issue 17, the notification outbox: one contract for both stores (in memory and SQLite), the
 * back-off with a clock the test controls, and once-only delivery to a real HTTP receiver across
 * a restart and with two outboxes sharing one SQLite file.
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createNotification, type Notification } from '../../shared/notifications'
import { openSqliteFile } from '../../shared/node/sqlite-open'
import { backoffDelay, MemoryOutboxStore, Outbox, type OutboxStore } from '../../shared/node/notify/outbox'
import { OUTBOX_TABLE, SqliteOutboxStore } from '../../shared/node/notify/sqlite-outbox'
import { deliverWebhook } from '../../shared/node/notify/webhooks'
import { startWebhookReceiver, type WebhookReceiver } from './receivers'

const SECRET = 'outbox-test-secret-0123'
const instance = { name: 'Owlat', url: 'http://127.0.0.1:3000', version: '1.2.2' }
const T0 = Date.parse('2026-01-07T12:00:00Z')

function note(id: string): Notification {
  return createNotification('update-succeeded', { runId: `job-${id}`, fromVersion: '1.2.2', toVersion: '1.2.3' }, { instance, id, now: T0 })
}

function newDelivery(id: string, target: string, at = T0) {
  return { notificationId: id, target, notification: note(id), createdAt: at, nextAttemptAt: at }
}

function openOutboxDb(path: string): Database.Database {
  return openSqliteFile(path, 'outbox test store', ['journal_mode = WAL', 'busy_timeout = 5000'], db => new SqliteOutboxStore(db))
}

const stores: Array<[string, () => { store: OutboxStore, close: () => void }]> = [
  ['MemoryOutboxStore', () => ({ store: new MemoryOutboxStore(), close: () => {} })],
  ['SqliteOutboxStore', () => {
    const db = new Database(':memory:')
    return { store: new SqliteOutboxStore(db), close: () => db.close() }
  }],
]

describe.each(stores)('%s (the store contract)', (_name, make) => {
  let store: OutboxStore
  let close: () => void
  beforeEach(() => {
    ({ store, close } = make())
  })
  afterEach(() => close())

  it('enqueues once per (notification, target)', async () => {
    expect(await store.enqueue(newDelivery('n1', 'https://a.example.com/h'))).toBe(true)
    expect(await store.enqueue(newDelivery('n1', 'https://a.example.com/h', T0 + 5))).toBe(false)
    expect(await store.enqueue(newDelivery('n1', 'mailto:admin@owlat.local'))).toBe(true)
    expect(await store.enqueue(newDelivery('n2', 'https://a.example.com/h'))).toBe(true)
    const rows = await store.deliveriesOf('n1')
    expect(rows.map(r => r.target).sort()).toEqual(['https://a.example.com/h', 'mailto:admin@owlat.local'])
    expect(rows[0]).toMatchObject({ notificationId: 'n1', attempts: 0, deliveredAt: null, gaveUpAt: null, lastError: null, createdAt: T0, nextAttemptAt: T0 })
    expect(rows[0]!.notification).toEqual(note('n1'))
  })

  it('hands out what is due, oldest first, up to the limit, and claims it', async () => {
    await store.enqueue(newDelivery('late', 'https://a.example.com/h', T0 + 1000))
    await store.enqueue(newDelivery('n1', 'https://a.example.com/h', T0))
    await store.enqueue(newDelivery('n2', 'https://a.example.com/h', T0 + 10))
    expect(await store.due(T0 - 1, 10, T0 + 60_000)).toEqual([])
    const claimed = await store.due(T0 + 10, 1, T0 + 60_000)
    expect(claimed.map(d => d.notificationId)).toEqual(['n1'])
    expect(claimed[0]).toMatchObject({ attempts: 1, nextAttemptAt: T0 + 60_000 })
    // Claimed: not handed out again until the claim lapses.
    expect((await store.due(T0 + 10, 10, T0 + 60_000)).map(d => d.notificationId)).toEqual(['n2'])
    expect(await store.due(T0 + 20, 10, T0 + 60_000)).toEqual([])
    const lapsed = await store.due(T0 + 60_000, 10, T0 + 120_000)
    expect(lapsed.map(d => [d.notificationId, d.attempts])).toEqual([['late', 1], ['n1', 2], ['n2', 2]])
  })

  it('a delivered one is never due again', async () => {
    await store.enqueue(newDelivery('n1', 'https://a.example.com/h'))
    const [d] = await store.due(T0, 10, T0 + 1000)
    await store.markDelivered(d!.id, T0 + 5)
    expect(await store.due(T0 + 10_000_000, 10, T0 + 20_000_000)).toEqual([])
    expect((await store.deliveriesOf('n1'))[0]).toMatchObject({ deliveredAt: T0 + 5, attempts: 1 })
  })

  it('a failure sets the next attempt and keeps the error; giving up keeps it for good', async () => {
    await store.enqueue(newDelivery('n1', 'https://a.example.com/h'))
    const [d] = await store.due(T0, 10, T0 + 1000)
    await store.markFailed(d!.id, T0 + 10_000, 'answered 500', T0 + 1)
    expect(await store.due(T0 + 9_999, 10, T0 + 20_000)).toEqual([])
    const [again] = await store.due(T0 + 10_000, 10, T0 + 20_000)
    expect(again).toMatchObject({ attempts: 2, lastError: 'answered 500' })
    await store.markFailed(again!.id, null, 'answered 410', T0 + 10_001)
    expect(await store.due(T0 + 100_000_000, 10, T0 + 200_000_000)).toEqual([])
    expect((await store.deliveriesOf('n1'))[0]).toMatchObject({ gaveUpAt: T0 + 10_001, lastError: 'answered 410', deliveredAt: null })
  })

  it('a late failure from a lapsed claim does not undo a delivery', async () => {
    await store.enqueue(newDelivery('n1', 'https://a.example.com/h'))
    const [d] = await store.due(T0, 10, T0 + 1000)
    await store.markDelivered(d!.id, T0 + 2)
    await store.markFailed(d!.id, null, 'timed out', T0 + 3)
    expect((await store.deliveriesOf('n1'))[0]).toMatchObject({ deliveredAt: T0 + 2, gaveUpAt: null, lastError: null })
  })
})

describe('backoffDelay', () => {
  it('10 s, doubling, at most an hour', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 20].map(n => backoffDelay(n) / 1000)).toEqual([10, 20, 40, 80, 160, 320, 640, 1280, 2560, 3600, 3600])
    expect(backoffDelay(3, { baseDelayMs: 1000, maxDelayMs: 3000 })).toBe(3000)
  })
})

describe('Outbox', () => {
  let clock: number
  const now = () => clock
  beforeEach(() => {
    clock = T0
  })

  it('delivers each queued pair once, and an event raised twice goes out once', async () => {
    const sent: string[] = []
    const outbox = new Outbox({ store: new MemoryOutboxStore(), now, deliver: async (target, n) => void sent.push(`${n.id} → ${target}`) })
    expect(await outbox.enqueue(note('n1'), ['https://a.example.com/h', 'mailto:admin@owlat.local', 'https://a.example.com/h'])).toBe(2)
    expect(await outbox.enqueue(note('n1'), ['https://a.example.com/h'])).toBe(0)
    const pass = await outbox.deliverDue()
    expect(pass.delivered).toHaveLength(2)
    expect(sent.sort()).toEqual(['n1 → https://a.example.com/h', 'n1 → mailto:admin@owlat.local'])
    expect(await outbox.enqueue(note('n1'), ['https://a.example.com/h'])).toBe(0)
    clock += 24 * 60 * 60_000
    expect((await outbox.deliverDue()).delivered).toEqual([])
    expect(sent).toHaveLength(2)
  })

  it('retries with back-off and gives up after the last attempt, keeping the error', async () => {
    const store = new MemoryOutboxStore()
    const attempts: number[] = []
    const told: Array<[string, boolean]> = []
    const outbox = new Outbox({
      store, now, maxAttempts: 4,
      deliver: async () => {
        attempts.push(clock - T0)
        throw new Error(`answered 503 (attempt ${attempts.length})`)
      },
      onFailure: (_d, error, gaveUp) => told.push([error, gaveUp]),
    })
    await outbox.enqueue(note('n1'), ['https://a.example.com/h'])
    // Step the clock a second at a time for two minutes: only the due attempts happen.
    for (let i = 0; i < 120; i++) {
      await outbox.deliverDue()
      clock += 1000
    }
    expect(attempts).toEqual([0, 10_000, 30_000, 70_000])
    expect(told.map(([, gaveUp]) => gaveUp)).toEqual([false, false, false, true])
    const [row] = store.deliveriesOf('n1')
    expect(row).toMatchObject({ attempts: 4, deliveredAt: null, gaveUpAt: T0 + 70_000, lastError: 'answered 503 (attempt 4)' })
    clock += 10 * 60 * 60_000
    await outbox.deliverDue()
    expect(attempts).toHaveLength(4)
  })

  it('drains a backlog larger than one batch', async () => {
    let count = 0
    const outbox = new Outbox({ store: new MemoryOutboxStore(), now, batchSize: 3, deliver: async () => void count++ })
    for (let i = 0; i < 10; i++) await outbox.enqueue(note(`n${i}`), ['https://a.example.com/h'])
    expect((await outbox.drain()).delivered).toHaveLength(10)
    expect(count).toBe(10)
  })

  it('started, it delivers what is enqueued without waiting for the interval', async () => {
    const sent: string[] = []
    const outbox = new Outbox({ store: new MemoryOutboxStore(), deliver: async (_t, n) => void sent.push(n.id) })
    outbox.start(60_000)
    await outbox.enqueue(note('n1'), ['https://a.example.com/h'])
    await expect.poll(() => sent, { timeout: 2000 }).toEqual(['n1'])
    await outbox.stop()
  })
})

describe('once per event per URL, through a real receiver, across a restart', () => {
  let receiver: WebhookReceiver
  let dir: string
  beforeEach(async () => {
    receiver = await startWebhookReceiver(SECRET)
    dir = mkdtempSync(join(tmpdir(), 'owlat-outbox-'))
  })
  afterEach(async () => {
    await receiver.close()
  })

  const deliver = (target: string, n: Notification) => deliverWebhook(target, n, SECRET, { timeoutMs: 5_000 })

  it('500 twice, a restart between, then 200: one accepted delivery, every attempt signed', async () => {
    const file = join(dir, 'web.sqlite')
    receiver.answers.push(500, 500)
    let clock = T0
    const n = note('evt-1')

    // First web process: queues the event and tries once.
    let db = openOutboxDb(file)
    const first = new Outbox({ store: new SqliteOutboxStore(db), deliver, now: () => clock })
    expect(await first.enqueue(n, [receiver.url])).toBe(1)
    const pass1 = await first.deliverDue()
    expect(pass1.retrying).toMatchObject([{ nextAttemptAt: T0 + 10_000, error: expect.stringContaining('answered 500') }])
    db.close() // the web restarts

    // Second web process on the same file: the same event raised again is not queued twice.
    clock = T0 + 5_000
    db = openOutboxDb(file)
    const second = new Outbox({ store: new SqliteOutboxStore(db), deliver, now: () => clock })
    expect(await second.enqueue(n, [receiver.url])).toBe(0)
    expect((await second.deliverDue()).retrying).toEqual([]) // not due yet
    clock = T0 + 10_000
    expect((await second.deliverDue()).retrying).toMatchObject([{ nextAttemptAt: T0 + 30_000 }])
    clock = T0 + 30_000
    expect((await second.deliverDue()).delivered).toHaveLength(1)
    clock = T0 + 24 * 60 * 60_000
    expect(await second.drain()).toEqual({ delivered: [], retrying: [], gaveUp: [] })
    db.close()

    // And a third start finds nothing left to send.
    db = openOutboxDb(file)
    const third = new Outbox({ store: new SqliteOutboxStore(db), deliver, now: () => clock })
    expect(await third.drain()).toEqual({ delivered: [], retrying: [], gaveUp: [] })
    const [row] = new SqliteOutboxStore(db).deliveriesOf('evt-1')
    expect(row).toMatchObject({ attempts: 3, deliveredAt: T0 + 30_000, lastError: null })
    db.close()

    expect(receiver.received.map(h => h.status)).toEqual([500, 500, 200])
    expect(receiver.received.every(h => h.signatureValid)).toBe(true)
    expect(new Set(receiver.received.map(h => h.headers['x-owlat-webhook-id']))).toEqual(new Set(['evt-1']))
    expect(receiver.received.every(h => h.rawBody === JSON.stringify(n))).toBe(true)
  })

  it('two outboxes sharing one SQLite file, passing at the same time, deliver each event once', async () => {
    const file = join(dir, 'shared.sqlite')
    const dbA = openOutboxDb(file)
    const dbB = openOutboxDb(file)
    const a = new Outbox({ store: new SqliteOutboxStore(dbA), deliver, batchSize: 4 })
    const b = new Outbox({ store: new SqliteOutboxStore(dbB), deliver, batchSize: 4 })
    const events = Array.from({ length: 12 }, (_, i) => note(`evt-${i}`))
    // Both replicas raise every event (each saw the same run end).
    for (const n of events) {
      await a.enqueue(n, [receiver.url])
      await b.enqueue(n, [receiver.url])
    }
    const [passA, passB] = await Promise.all([a.drain(), b.drain()])
    expect(passA.delivered.length + passB.delivered.length).toBe(12)
    expect(passA.delivered.length).toBeGreaterThan(0)
    expect(passB.delivered.length).toBeGreaterThan(0)
    const ids = receiver.received.map(h => h.headers['x-owlat-webhook-id'])
    expect(ids).toHaveLength(12)
    expect(new Set(ids).size).toBe(12)
    dbA.close()
    dbB.close()
  })

  it('makes its table in an existing file without touching its migrations counter', () => {
    const db = new Database(join(dir, 'other.sqlite'))
    db.pragma('user_version = 7')
    db.exec('CREATE TABLE runs (id TEXT PRIMARY KEY)')
    new SqliteOutboxStore(db)
    new SqliteOutboxStore(db) // a second start: nothing to do
    expect(db.pragma('user_version', { simple: true })).toBe(7)
    expect(db.prepare('SELECT name FROM sqlite_master WHERE type = \'table\' ORDER BY name').all()).toEqual([{ name: OUTBOX_TABLE }, { name: 'runs' }])
    db.close()
  })

  it('refuses a table that lacks a column its rows need', () => {
    const db = new Database(':memory:')
    db.exec(`CREATE TABLE ${OUTBOX_TABLE} (id TEXT PRIMARY KEY, notification_id TEXT, target TEXT)`)
    expect(() => new SqliteOutboxStore(db)).toThrow(/lacks the column\(s\) notification, attempts/)
    db.close()
  })
})
