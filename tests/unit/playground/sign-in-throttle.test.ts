/** The standalone app's sign-in throttle (playground/server/utils/sign-in-throttle.ts) on a hand-moved clock. */
import { describe, expect, it } from 'vitest'
import { clientAddress, SignInThrottle, trustedProxyList, type SignInLimits } from '../../../playground/server/utils/sign-in-throttle'

const LIMITS: SignInLimits = { pairMaxFailures: 3, addressMaxFailures: 5, accountMaxFailures: 8, windowMs: 60_000, lockMs: 30_000 }
const ADMIN = 'admin@example.com'

function subject(limits: Partial<SignInLimits> = {}, maxEntries?: number) {
  const clock = { now: 1_000_000 }
  const throttle = new SignInThrottle({ ...LIMITS, ...limits }, { now: () => clock.now, maxEntries })
  return { throttle, clock }
}

/** `n` failed attempts; each must have been let through. */
function fail(throttle: SignInThrottle, email: string, address: string, n: number) {
  for (let i = 0; i < n; i++) expect(throttle.attempt(email, address)).toEqual({ ok: true })
}

describe('SignInThrottle', () => {
  it('locks the (account, address) pair after its limit, for the lock time, and says how long', () => {
    const { throttle, clock } = subject()
    fail(throttle, ADMIN, '10.0.0.1', 3)
    expect(throttle.attempt(ADMIN, '10.0.0.1')).toEqual({ ok: false, scope: 'pair', retryAfterMs: 30_000 })
    clock.now += 10_000
    expect(throttle.attempt(ADMIN, '10.0.0.1')).toEqual({ ok: false, scope: 'pair', retryAfterMs: 20_000 })
    // Another address for the same account is not held by that pair's lock.
    expect(throttle.attempt(ADMIN, '10.0.0.2')).toEqual({ ok: true })
  })

  it('ends the lock by itself and counts afresh after it', () => {
    const { throttle, clock } = subject({ addressMaxFailures: 100, accountMaxFailures: 100 })
    fail(throttle, ADMIN, '10.0.0.1', 3)
    clock.now += 30_000
    fail(throttle, ADMIN, '10.0.0.1', 3)
    expect(throttle.attempt(ADMIN, '10.0.0.1')).toMatchObject({ ok: false, scope: 'pair' })
  })

  it('forgets failures older than the window', () => {
    const { throttle, clock } = subject()
    fail(throttle, ADMIN, '10.0.0.1', 2)
    clock.now += 60_000
    fail(throttle, ADMIN, '10.0.0.1', 2)
    expect(throttle.attempt(ADMIN, '10.0.0.1')).toEqual({ ok: true })
  })

  it('takes a successful attempt back and starts the pair afresh', () => {
    const { throttle } = subject()
    fail(throttle, ADMIN, '10.0.0.1', 2)
    expect(throttle.attempt(ADMIN, '10.0.0.1')).toEqual({ ok: true })
    throttle.succeeded(ADMIN, '10.0.0.1')
    fail(throttle, ADMIN, '10.0.0.1', 3)
    expect(throttle.attempt(ADMIN, '10.0.0.1')).toMatchObject({ ok: false })
  })

  it('locks an address that tries many accounts', () => {
    const { throttle } = subject()
    for (let i = 0; i < 5; i++) fail(throttle, `user${i}@example.com`, '10.0.0.9', 1)
    expect(throttle.attempt('someone-else@example.com', '10.0.0.9')).toEqual({ ok: false, scope: 'address', retryAfterMs: 30_000 })
    expect(throttle.attempt('someone-else@example.com', '10.0.0.10')).toEqual({ ok: true })
  })

  it('locks an account many addresses guess, but not where its owner signed in before', () => {
    const { throttle } = subject()
    expect(throttle.attempt(ADMIN, '192.168.1.5')).toEqual({ ok: true })
    throttle.succeeded(ADMIN, '192.168.1.5')
    for (let i = 0; i < 8; i++) fail(throttle, ADMIN, `10.1.0.${i}`, 1)
    expect(throttle.attempt(ADMIN, '10.1.0.200')).toEqual({ ok: false, scope: 'account', retryAfterMs: 30_000 })
    // The owner's known address is held only by its own pair.
    expect(throttle.attempt(ADMIN, '192.168.1.5')).toEqual({ ok: true })
  })

  it('counts concurrent attempts before they are answered, so a burst cannot pass the limit', () => {
    const { throttle } = subject()
    const answers = Array.from({ length: 10 }, () => throttle.attempt(ADMIN, '10.0.0.1'))
    expect(answers.filter(a => a.ok)).toHaveLength(3)
  })

  it('lists the locks in force and lets an admin clear them', () => {
    const { throttle, clock } = subject()
    fail(throttle, ADMIN, '10.0.0.1', 3)
    fail(throttle, ADMIN, '10.0.0.2', 3)
    for (let i = 0; i < 5; i++) fail(throttle, `u${i}@example.com`, '10.0.0.9', 1)
    expect(throttle.locks().map(l => [l.scope, l.email, l.address])).toEqual(expect.arrayContaining([
      ['pair', ADMIN, '10.0.0.1'], ['pair', ADMIN, '10.0.0.2'], ['address', null, '10.0.0.9'],
    ]))
    expect(throttle.clear({ email: ADMIN, address: '10.0.0.1' })).toBe(1)
    expect(throttle.attempt(ADMIN, '10.0.0.1')).toEqual({ ok: true })
    expect(throttle.attempt(ADMIN, '10.0.0.2')).toMatchObject({ ok: false })
    expect(throttle.clear({ email: ADMIN })).toBe(1)
    expect(throttle.attempt(ADMIN, '10.0.0.2')).toEqual({ ok: true })
    expect(throttle.clear({ address: '10.0.0.9' })).toBe(1)
    expect(throttle.attempt('u0@example.com', '10.0.0.9')).toEqual({ ok: true })
    clock.now += 30_000
    expect(throttle.locks()).toEqual([])
  })

  it('keeps memory bounded: beyond the cap the least recently used counters go', () => {
    const { throttle } = subject({ addressMaxFailures: 1000, accountMaxFailures: 1000 }, 100)
    for (let i = 0; i < 1000; i++) throttle.attempt(`u${i}@example.com`, `10.2.${i >> 8}.${i & 255}`)
    const maps = throttle as unknown as Record<'pairs' | 'addresses' | 'accounts', Map<string, unknown>>
    expect([maps.pairs.size, maps.addresses.size, maps.accounts.size]).toEqual([100, 100, 100])
  })
})

describe('clientAddress', () => {
  const none = trustedProxyList([])
  const proxy = trustedProxyList([{ address: '127.0.0.1', prefix: null, family: 'ipv4' }, { address: '10.0.0.0', prefix: 8, family: 'ipv4' }])

  it('is the peer, whatever X-Forwarded-For says, unless the peer is a trusted proxy', () => {
    expect(clientAddress('203.0.113.7', '198.51.100.1', none)).toBe('203.0.113.7')
    expect(clientAddress('::ffff:203.0.113.7', undefined, none)).toBe('203.0.113.7')
    expect(clientAddress('127.0.0.1', '198.51.100.1', none)).toBe('127.0.0.1')
    expect(clientAddress(undefined, undefined, none)).toBe('unknown')
  })

  it('behind trusted proxies, is the nearest hop that is not one (hops further left are the client\'s to forge)', () => {
    expect(clientAddress('127.0.0.1', '198.51.100.1', proxy)).toBe('198.51.100.1')
    expect(clientAddress('127.0.0.1', '1.1.1.1, 198.51.100.1, 10.3.4.5', proxy)).toBe('198.51.100.1')
    expect(clientAddress('10.0.0.2', 'not-an-ip, 198.51.100.1', proxy)).toBe('198.51.100.1')
    expect(clientAddress('10.0.0.2', 'garbage', proxy)).toBe('10.0.0.2')
  })
})
