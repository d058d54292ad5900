/**
 * Issue 17, both channels behind one outbox: which targets an event goes to (webhooks always,
 * each admin's mailbox by preference) and one deliver function for both, against a real SMTP
 * server and a real HTTP receiver on loopback.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createNotification } from '../../shared/notifications'
import { createDeliverer, mailTarget, notificationTargets, notifyConfigFromEnv, type NotifyConfig } from '../../shared/node/notify/notifier'
import { MemoryOutboxStore, Outbox } from '../../shared/node/notify/outbox'
import { startSmtpSink, startWebhookReceiver, type SmtpSink, type WebhookReceiver } from './receivers'

const SECRET = 'notifier-test-secret-0123'
const instance = { name: 'Owlat', url: 'http://127.0.0.1:3000', version: '1.2.2' }
const admins = [
  { email: 'All@Owlat.local', preference: 'all' as const },
  { email: 'sec@owlat.local', preference: 'security' as const },
  { email: 'quiet@owlat.local', preference: 'none' as const },
]

describe('notifyConfigFromEnv', () => {
  it('nothing set: no channel', () => {
    expect(notifyConfigFromEnv({})).toEqual({ webhooks: null, mail: null })
  })

  it('names every bad variable at once, never their values', () => {
    let message = ''
    try {
      notifyConfigFromEnv({ OWLAT_WEBHOOK_URLS: 'ftp://x.example.com/T0KEN', OWLAT_SMTP_URL: 'smtp://user:hunter2@' })
    }
    catch (err) {
      message = (err as Error).message
    }
    expect(message).toBe('invalid notification settings: OWLAT_WEBHOOK_URLS: entry 1 of 1, "ftp://x.example.com/…" is not an http(s) URL; OWLAT_SMTP_URL has no host')
    expect(message).not.toMatch(/T0KEN|hunter2/)
  })
})

describe('notificationTargets', () => {
  const both: NotifyConfig = { webhooks: { urls: ['https://a.example.com/h'], secret: SECRET }, mail: { url: 'smtp://127.0.0.1:25', from: 'Owlat <o@x.y>' } }

  it('webhooks hear everything; admins by their preference', () => {
    expect(notificationTargets(both, 'update-succeeded', admins)).toEqual(['https://a.example.com/h', 'mailto:all@owlat.local'])
    expect(notificationTargets(both, 'security-release-available', admins)).toEqual(['https://a.example.com/h', 'mailto:all@owlat.local', 'mailto:sec@owlat.local'])
    expect(notificationTargets(both, 'update-rolled-back', admins)).toEqual(['https://a.example.com/h', 'mailto:all@owlat.local', 'mailto:sec@owlat.local'])
  })

  it('no mail set up: no mailbox targets; nothing set up: no targets', () => {
    expect(notificationTargets({ ...both, mail: null }, 'update-failed', admins)).toEqual(['https://a.example.com/h'])
    expect(notificationTargets({ webhooks: null, mail: null }, 'update-failed', admins)).toEqual([])
    expect(mailTarget(' Admin@Example.COM ')).toBe('mailto:admin@example.com')
  })
})

describe('one outbox for mail and webhooks', () => {
  let sink: SmtpSink
  let receiver: WebhookReceiver
  beforeEach(async () => {
    sink = await startSmtpSink()
    receiver = await startWebhookReceiver(SECRET)
  })
  afterEach(async () => {
    await sink.close()
    await receiver.close()
  })

  it('delivers an event to the webhook and to each admin who wants it, once', async () => {
    const config = notifyConfigFromEnv({ OWLAT_WEBHOOK_URLS: receiver.url, OWLAT_WEBHOOK_SECRET: SECRET, OWLAT_SMTP_URL: sink.url, OWLAT_SMTP_FROM: 'Owlat <updates@owlat.local>' })
    const outbox = new Outbox({ store: new MemoryOutboxStore(), deliver: createDeliverer(config) })
    const event = createNotification('update-rolled-back', { runId: 'job-3', fromVersion: '1.2.2', toVersion: '1.4.0', reason: 'web never became healthy' }, { instance })
    expect(await outbox.enqueue(event, notificationTargets(config, event.event, admins))).toBe(3)
    expect(await outbox.enqueue(event, notificationTargets(config, event.event, admins))).toBe(0)
    const pass = await outbox.drain()
    expect(pass.delivered).toHaveLength(3)
    expect(receiver.received).toHaveLength(1)
    expect(receiver.received[0]).toMatchObject({ signatureValid: true, body: event })
    expect(sink.mails.map(m => m.envelope.to).flat().sort()).toEqual(['all@owlat.local', 'sec@owlat.local'])
    expect(sink.mails.every(m => m.parsed.subject === '[Owlat] 1.4.0 failed and 1.2.2 was restored')).toBe(true)
    expect(sink.mails[0]!.parsed.text).toContain('http://127.0.0.1:3000/settings/system/runs/job-3')
  })

  it('a mail the server refuses is retried like a webhook, and delivered once it is accepted', async () => {
    let clock = Date.parse('2026-01-07T12:00:00Z')
    const config = notifyConfigFromEnv({ OWLAT_SMTP_URL: sink.url })
    const outbox = new Outbox({ store: new MemoryOutboxStore(), deliver: createDeliverer(config), now: () => clock })
    const event = createNotification('security-release-available', { version: '1.3.1', currentVersion: '1.2.2', channel: 'stable', severity: 'security' }, { instance })
    sink.refuse.add('sec@owlat.local')
    await outbox.enqueue(event, notificationTargets(config, event.event, admins))
    const first = await outbox.drain()
    expect(first.delivered.map(d => d.target)).toEqual(['mailto:all@owlat.local'])
    expect(first.retrying).toMatchObject([{ delivery: { target: 'mailto:sec@owlat.local' }, error: expect.stringContaining('sec@owlat.local') }])
    sink.refuse.clear()
    clock += 10_000
    expect((await outbox.drain()).delivered.map(d => d.target)).toEqual(['mailto:sec@owlat.local'])
    expect(sink.mails.map(m => m.envelope.to)).toEqual([['all@owlat.local'], ['sec@owlat.local']])
  })

  it('a target whose channel is not set up, or of no known kind, fails with why', async () => {
    const deliver = createDeliverer({ webhooks: null, mail: null })
    const event = createNotification('update-succeeded', { runId: 'r', fromVersion: '1.2.2', toVersion: '1.2.3' }, { instance })
    await expect(deliver('mailto:a@b.c', event)).rejects.toThrow('OWLAT_SMTP_URL is not set: mail cannot be sent')
    await expect(deliver(receiver.url, event)).rejects.toThrow(/OWLAT_WEBHOOK_URLS and OWLAT_WEBHOOK_SECRET are not set/)
    await expect(deliver('sms:+100', event)).rejects.toThrow('unknown notification target sms:…')
  })
})
