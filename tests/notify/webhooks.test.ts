/**
 * Issue 17, webhooks: OWLAT_WEBHOOK_URLS and OWLAT_WEBHOOK_SECRET, the signature, and deliveries
 * to a real HTTP receiver on loopback that checks each signature against the raw body.
 */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createNotification } from '../../shared/notifications'
import {
  deliverWebhook, parseWebhookUrls, signWebhook, verifyWebhookSignature, webhookConfigFromEnv, WebhookDeliveryError,
} from '../../shared/node/notify/webhooks'
import { startWebhookReceiver, type WebhookReceiver } from './receivers'

const SECRET = 'webhook-secret-0123456789'
const instance = { name: 'Owlat', url: 'http://127.0.0.1:3000', version: '1.2.2' }
const notification = createNotification('update-succeeded', { runId: 'job-1', fromVersion: '1.2.2', toVersion: '1.2.3', via: 'schedule' }, { instance })

describe('OWLAT_WEBHOOK_URLS and OWLAT_WEBHOOK_SECRET', () => {
  it('splits on commas, drops blanks and repeats', () => {
    expect(parseWebhookUrls(' https://a.example.com/hook , http://127.0.0.1:9000/x,,https://a.example.com/hook ')).toEqual(['https://a.example.com/hook', 'http://127.0.0.1:9000/x'])
    expect(parseWebhookUrls(undefined)).toEqual([])
    expect(parseWebhookUrls('  ')).toEqual([])
  })

  it('refuses anything but http(s), naming the entry but not its secret path', () => {
    expect(() => parseWebhookUrls('https://a.example.com/hook,ftp://b.example.com/T0KEN')).toThrow('OWLAT_WEBHOOK_URLS: entry 2 of 2, "ftp://b.example.com/…" is not an http(s) URL')
    expect(() => parseWebhookUrls('hooks.example.com/x')).toThrow('OWLAT_WEBHOOK_URLS: entry 1 of 1, "hooks.example.com/x" is not a URL')
    try {
      parseWebhookUrls('file:///etc/T0KEN')
    }
    catch (err) {
      expect(String(err)).not.toContain('T0KEN')
    }
  })

  it('none configured: null; with URLs the secret is required and long enough', () => {
    expect(webhookConfigFromEnv({})).toBeNull()
    expect(webhookConfigFromEnv({ OWLAT_WEBHOOK_URLS: '', OWLAT_WEBHOOK_SECRET: SECRET })).toBeNull()
    expect(webhookConfigFromEnv({ OWLAT_WEBHOOK_URLS: 'https://a.example.com/h', OWLAT_WEBHOOK_SECRET: SECRET })).toEqual({ urls: ['https://a.example.com/h'], secret: SECRET })
    expect(() => webhookConfigFromEnv({ OWLAT_WEBHOOK_URLS: 'https://a.example.com/h' })).toThrow('OWLAT_WEBHOOK_SECRET is required when OWLAT_WEBHOOK_URLS is set')
    expect(() => webhookConfigFromEnv({ OWLAT_WEBHOOK_URLS: 'https://a.example.com/h', OWLAT_WEBHOOK_SECRET: 'short' })).toThrow('OWLAT_WEBHOOK_SECRET must be at least 16 characters')
  })
})

describe('signWebhook', () => {
  it('is sha256= and the hex HMAC-SHA256 of the raw body (RFC 4231-style known answer)', () => {
    expect(signWebhook('The quick brown fox jumps over the lazy dog', 'key')).toBe('sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8')
    expect(signWebhook(Buffer.from('The quick brown fox jumps over the lazy dog'), 'key')).toBe('sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8')
  })

  it('verifies only the exact bytes with the same secret', () => {
    const body = JSON.stringify(notification)
    const signature = signWebhook(body, SECRET)
    expect(verifyWebhookSignature(body, SECRET, signature)).toBe(true)
    expect(verifyWebhookSignature(`${body} `, SECRET, signature)).toBe(false)
    expect(verifyWebhookSignature(body, `${SECRET}x`, signature)).toBe(false)
    expect(verifyWebhookSignature(body, SECRET, signature.toUpperCase())).toBe(false)
    expect(verifyWebhookSignature(body, SECRET, undefined)).toBe(false)
  })
})

describe('deliverWebhook to a real receiver', () => {
  let receiver: WebhookReceiver
  beforeEach(async () => {
    receiver = await startWebhookReceiver(SECRET)
  })
  afterEach(async () => {
    await receiver.close()
  })

  it('POSTs the notification as JSON, signed, with its id', async () => {
    await expect(deliverWebhook(receiver.url, notification, SECRET)).resolves.toEqual({ status: 200 })
    expect(receiver.received).toHaveLength(1)
    const [hook] = receiver.received
    expect(hook!.signatureValid).toBe(true)
    expect(hook!.path).toBe('/hooks/owlat')
    expect(hook!.headers['content-type']).toBe('application/json')
    expect(hook!.headers['x-owlat-webhook-id']).toBe(notification.id)
    expect(hook!.headers['x-owlat-webhook-event']).toBe('update-succeeded')
    expect(hook!.headers['x-owlat-webhook-signature']).toBe(signWebhook(hook!.rawBody, SECRET))
    expect(hook!.body).toEqual(notification)
    expect(Object.keys(hook!.body as object)).toEqual(['id', 'event', 'occurredAt', 'instance', 'data'])
  })

  it('a receiver with another secret refuses it, and the sender says so', async () => {
    const err = await deliverWebhook(receiver.url, notification, 'another-secret-of-16+').catch(e => e as WebhookDeliveryError)
    expect(err).toBeInstanceOf(WebhookDeliveryError)
    expect(err).toMatchObject({ status: 401, message: expect.stringMatching(/^127\.0\.0\.1:\d+ answered 401: no \(401\)$/) })
  })

  it('any answer but 2xx fails with its status', async () => {
    receiver.answers.push(500)
    await expect(deliverWebhook(receiver.url, notification, SECRET)).rejects.toMatchObject({ status: 500 })
    receiver.answers.push(204)
    await expect(deliverWebhook(receiver.url, notification, SECRET)).resolves.toEqual({ status: 204 })
  })

  it('does not follow a redirect', async () => {
    receiver.handler = (req, res) => {
      if (req.url === '/elsewhere') res.writeHead(200).end('took it')
      else res.writeHead(302, { Location: '/elsewhere' }).end()
    }
    await expect(deliverWebhook(receiver.url, notification, SECRET)).rejects.toThrow(/answered 302 \(redirects are not followed\)/)
    expect(receiver.received.map(h => h.path)).toEqual(['/hooks/owlat'])
  })

  it('gives up on a receiver that does not answer within the timeout', async () => {
    receiver.handler = () => {} // never answers
    const started = Date.now()
    await expect(deliverWebhook(receiver.url, notification, SECRET, { timeoutMs: 300 })).rejects.toMatchObject({ status: null, message: expect.stringMatching(/did not answer within 300 ms$/) })
    expect(Date.now() - started).toBeLessThan(5_000)
  })

  it('says when nothing listens', async () => {
    const closed = createServer()
    await new Promise<void>(resolve => closed.listen(0, '127.0.0.1', () => resolve()))
    const port = (closed.address() as AddressInfo).port
    await new Promise<void>(resolve => closed.close(() => resolve()))
    await expect(deliverWebhook(`http://127.0.0.1:${port}/hook`, notification, SECRET)).rejects.toMatchObject({ status: null, message: expect.stringContaining('could not be reached') })
  })
})
