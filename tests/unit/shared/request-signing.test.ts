import { describe, expect, it } from 'vitest'
import { MAX_SKEW_MS, ReplayGuard, signRequest, verifyIncomingRequest, verifySignedRequest } from '../../../shared/request-signing'

const secret = 'a'.repeat(64)
const body = JSON.stringify({ targetVersion: '1.3.0' })

function verify(overrides: Partial<Parameters<typeof verifySignedRequest>[0]> = {}, headers = signRequest({ secret, method: 'POST', path: '/v1/jobs', body })) {
  return verifySignedRequest({
    secret,
    method: 'POST',
    path: '/v1/jobs',
    body,
    timestamp: headers['X-Owlat-Timestamp'],
    nonce: headers['X-Owlat-Nonce'],
    signature: headers['X-Owlat-Signature'],
    replay: new ReplayGuard(),
    ...overrides,
  })
}

describe('signed requests', () => {
  it('accepts a fresh request signed with the secret', () => {
    expect(verify()).toEqual({ ok: true })
  })

  it('refuses a wrong secret', () => {
    expect(verify({ secret: 'b'.repeat(64) })).toEqual({ ok: false, reason: expect.stringContaining('bad request signature') })
  })

  it('refuses a stale or future timestamp', () => {
    const old = signRequest({ secret, method: 'POST', path: '/v1/jobs', body, now: Date.now() - MAX_SKEW_MS - 1000 })
    expect(verify({}, old)).toEqual({ ok: false, reason: expect.stringContaining('stale') })
    const future = signRequest({ secret, method: 'POST', path: '/v1/jobs', body, now: Date.now() + MAX_SKEW_MS + 1000 })
    expect(verify({}, future)).toEqual({ ok: false, reason: expect.stringContaining('stale') })
  })

  it('refuses a replay of the same signature', () => {
    const replay = new ReplayGuard()
    const headers = signRequest({ secret, method: 'POST', path: '/v1/jobs', body })
    expect(verify({ replay }, headers)).toEqual({ ok: true })
    expect(verify({ replay }, headers)).toEqual({ ok: false, reason: 'replayed request signature' })
  })

  it('binds the method, the path and the body', () => {
    expect(verify({ method: 'GET' }).ok).toBe(false)
    expect(verify({ path: '/v1/jobs?limit=1' }).ok).toBe(false)
    expect(verify({ body: JSON.stringify({ targetVersion: '9.9.9' }) }).ok).toBe(false)
  })

  it('refuses missing or malformed headers', () => {
    expect(verify({ signature: undefined }).ok).toBe(false)
    expect(verify({ timestamp: 'yesterday' }).ok).toBe(false)
    expect(verify({ signature: 'zz' }).ok).toBe(false)
  })

  it('tells identical requests signed in the same millisecond apart by their nonce', () => {
    const replay = new ReplayGuard()
    const now = Date.now()
    const signed = Array.from({ length: 50 }, () => signRequest({ secret, method: 'POST', path: '/v1/jobs', body, now }))
    expect(new Set(signed.map(h => h['X-Owlat-Nonce'])).size).toBe(50)
    expect(signed.every(h => /^[0-9a-f]{32}$/.test(h['X-Owlat-Nonce']!))).toBe(true)
    expect(signed.map(h => verify({ replay }, h).ok)).toEqual(signed.map(() => true))
  })

  it('binds the nonce: another one does not verify', () => {
    const headers = signRequest({ secret, method: 'POST', path: '/v1/jobs', body })
    expect(verify({ nonce: 'f'.repeat(32) }, headers)).toEqual({ ok: false, reason: expect.stringContaining('bad request signature') })
    expect(verify({ nonce: undefined }, headers).ok).toBe(false)
    expect(verify({ nonce: 'F'.repeat(32) }, headers)).toEqual({ ok: false, reason: expect.stringContaining('malformed request nonce') })
  })

  it('accepts only the canonical spelling of a signature', () => {
    const headers = signRequest({ secret, method: 'POST', path: '/v1/jobs', body })
    const signature = headers['X-Owlat-Signature']!
    for (const altered of [signature.toUpperCase(), `${signature}zz`, `${signature}00`, ` ${signature}`]) {
      expect(verify({ signature: altered }, headers)).toEqual({ ok: false, reason: expect.stringContaining('malformed request signature') })
    }
  })

  it('still verifies the form without a nonce, with strictly increasing timestamps per process', () => {
    const replay = new ReplayGuard()
    const first = signRequest({ secret, method: 'POST', path: '/v1/jobs', body, nonce: false })
    const second = signRequest({ secret, method: 'POST', path: '/v1/jobs', body, nonce: false })
    expect(first['X-Owlat-Nonce']).toBeUndefined()
    expect(Number(second['X-Owlat-Timestamp'])).toBeGreaterThan(Number(first['X-Owlat-Timestamp']))
    expect(verify({ replay }, first)).toEqual({ ok: true })
    expect(verify({ replay }, second)).toEqual({ ok: true })
    expect(verify({ replay }, first)).toEqual({ ok: false, reason: 'replayed request signature' })
  })

  it('forgets signatures once they are outside the window', () => {
    const guard = new ReplayGuard(1000)
    expect(guard.remember('sig', 0)).toBe(true)
    expect(guard.remember('sig', 500)).toBe(false)
    expect(guard.remember('sig', 2000)).toBe(true)
  })
})

describe('verifyIncomingRequest', () => {
  it('reads the headers of a Node request and signs its URL, query included', () => {
    const headers = signRequest({ secret, method: 'GET', path: '/v1/jobs?limit=5' })
    const req = {
      method: 'GET',
      url: '/v1/jobs?limit=5',
      // Node lower-cases header names; a repeated header arrives as an array.
      headers: { 'x-owlat-timestamp': [headers['X-Owlat-Timestamp']!], 'x-owlat-nonce': headers['X-Owlat-Nonce'], 'x-owlat-signature': headers['X-Owlat-Signature'] },
    }
    expect(verifyIncomingRequest(req, undefined, secret, new ReplayGuard())).toEqual({ ok: true })
    expect(verifyIncomingRequest({ ...req, url: '/v1/jobs?limit=6' }, undefined, secret, new ReplayGuard()).ok).toBe(false)
  })
})
