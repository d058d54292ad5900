/**
 * Sign-in throttling for the standalone app's sign-in. Framework-free (no Nitro auto-imports) so
 * tests drive it with their own clock.
 *
 * Three counters of failed sign-ins, each over a window (`windowMs`), each locking for a bounded
 * time (`lockMs`) once it reaches its limit:
 * - per (account, address) pair, the low limit: one client guessing one account's password;
 * - per address, across accounts: one client trying many accounts;
 * - per account, across addresses: many clients guessing one account.
 *
 * A pair that has signed in before (a "known" pair) is held only by its own pair lock, so no one
 * can lock a real admin out from where they sign in, and every lock ends by itself. An admin can
 * clear locks earlier. An attempt counts as a failure before the password is checked and is taken
 * back when it succeeds, so concurrent guesses cannot slip past a limit.
 *
 * State is per process (see README, Security): a restart clears it, and each web replica counts
 * on its own.
 */
import { BlockList, isIPv4, isIPv6 } from 'node:net'

export interface SignInLimits {
  pairMaxFailures: number
  addressMaxFailures: number
  accountMaxFailures: number
  windowMs: number
  lockMs: number
}

export type LockScope = 'pair' | 'address' | 'account'

export interface SignInLock {
  scope: LockScope
  email: string | null
  address: string | null
  failures: number
  lockedUntil: number
}

export type AttemptAnswer = { ok: true } | { ok: false, scope: LockScope, retryAfterMs: number }

interface Counter {
  failures: number
  windowStart: number
  lockedUntil: number
}

/** How long a successful sign-in keeps its pair known. */
const KNOWN_PAIR_MS = 30 * 24 * 60 * 60_000
/** Entries kept per map; beyond it the least recently touched go first, so memory stays bounded. */
const DEFAULT_MAX_ENTRIES = 100_000

const pairKey = (email: string, address: string) => `${email}\n${address}`

export class SignInThrottle {
  private readonly pairs = new Map<string, Counter>()
  private readonly addresses = new Map<string, Counter>()
  private readonly accounts = new Map<string, Counter>()
  private readonly known = new Map<string, number>()
  private readonly now: () => number
  private readonly maxEntries: number

  constructor(private readonly limits: SignInLimits, opts: { now?: () => number, maxEntries?: number } = {}) {
    this.now = opts.now ?? Date.now
    this.maxEntries = opts.maxEntries ?? DEFAULT_MAX_ENTRIES
  }

  /**
   * Asked before the password is checked: refused while a lock holds the attempt, else the attempt
   * is counted as a failure (`succeeded` takes it back).
   */
  attempt(email: string, address: string): AttemptAnswer {
    const now = this.now()
    this.sweep(now)
    const pair = pairKey(email, address)
    const isKnown = (this.known.get(pair) ?? 0) > now
    const held: [LockScope, number][] = [['pair', this.lockedFor(this.pairs, pair, now)]]
    if (!isKnown) held.push(['address', this.lockedFor(this.addresses, address, now)], ['account', this.lockedFor(this.accounts, email, now)])
    const [scope, retryAfterMs] = held.reduce((a, b) => (b[1] > a[1] ? b : a))
    if (retryAfterMs > 0) return { ok: false, scope, retryAfterMs }

    this.count(this.pairs, pair, this.limits.pairMaxFailures, now)
    if (!isKnown) {
      this.count(this.addresses, address, this.limits.addressMaxFailures, now)
      this.count(this.accounts, email, this.limits.accountMaxFailures, now)
    }
    return { ok: true }
  }

  /** The password was right: the pair starts afresh and is known from now on. */
  succeeded(email: string, address: string): void {
    const now = this.now()
    const pair = pairKey(email, address)
    const wasKnown = (this.known.get(pair) ?? 0) > now
    this.pairs.delete(pair)
    if (!wasKnown) {
      this.uncount(this.addresses, address)
      this.uncount(this.accounts, email)
    }
    this.touch(this.known, pair, now + KNOWN_PAIR_MS)
  }

  /** The locks in force, longest first. */
  locks(): SignInLock[] {
    const now = this.now()
    const out: SignInLock[] = []
    for (const [key, c] of this.pairs) {
      if (c.lockedUntil <= now) continue
      const [email = '', address = ''] = key.split('\n')
      out.push({ scope: 'pair', email, address, failures: c.failures, lockedUntil: c.lockedUntil })
    }
    for (const [address, c] of this.addresses) {
      if (c.lockedUntil > now) out.push({ scope: 'address', email: null, address, failures: c.failures, lockedUntil: c.lockedUntil })
    }
    for (const [email, c] of this.accounts) {
      if (c.lockedUntil > now) out.push({ scope: 'account', email, address: null, failures: c.failures, lockedUntil: c.lockedUntil })
    }
    return out.sort((a, b) => b.lockedUntil - a.lockedUntil)
  }

  /**
   * An admin's clearing: with an email, that account's lock and all its pairs (only the pair with
   * `address` when given); with only an address, that address's lock and all its pairs. Counters
   * go with the locks, so the next attempt starts afresh. Returns how many locks were in force.
   */
  clear(what: { email?: string, address?: string }): number {
    const now = this.now()
    let cleared = 0
    const drop = (map: Map<string, Counter>, key: string) => {
      const c = map.get(key)
      if (!c) return
      if (c.lockedUntil > now) cleared++
      map.delete(key)
    }
    const { email, address } = what
    for (const key of [...this.pairs.keys()]) {
      const [e, a] = key.split('\n')
      if ((email === undefined || e === email) && (address === undefined || a === address)) drop(this.pairs, key)
    }
    if (email !== undefined) drop(this.accounts, email)
    if (address !== undefined && email === undefined) drop(this.addresses, address)
    return cleared
  }

  private lockedFor(map: Map<string, Counter>, key: string, now: number): number {
    const c = map.get(key)
    return c && c.lockedUntil > now ? c.lockedUntil - now : 0
  }

  private count(map: Map<string, Counter>, key: string, max: number, now: number): void {
    let c = map.get(key)
    // A new window after the last one ran out, or after a lock ended: the count starts again.
    if (!c || now - c.windowStart >= this.limits.windowMs || (c.lockedUntil !== 0 && c.lockedUntil <= now)) {
      c = { failures: 0, windowStart: now, lockedUntil: 0 }
    }
    c.failures++
    if (c.failures >= max) c.lockedUntil = now + this.limits.lockMs
    this.touch(map, key, c)
  }

  private uncount(map: Map<string, Counter>, key: string): void {
    const c = map.get(key)
    if (!c) return
    c.failures = Math.max(0, c.failures - 1)
    // Only the attempt just taken back can have reached the limit (a lock would have refused it).
    if (c.failures < this.limitOf(map)) c.lockedUntil = 0
  }

  private limitOf(map: Map<string, Counter>): number {
    return map === this.addresses ? this.limits.addressMaxFailures : this.limits.accountMaxFailures
  }

  private touch<V>(map: Map<string, V>, key: string, value: V): void {
    map.delete(key)
    map.set(key, value)
    if (map.size > this.maxEntries) map.delete(map.keys().next().value!)
  }

  /** Drops counters that can no longer refuse anything, oldest first; stops at the first live one. */
  private sweep(now: number): void {
    for (const map of [this.pairs, this.addresses, this.accounts]) {
      for (const [key, c] of map) {
        if (c.lockedUntil > now || now - c.windowStart < this.limits.windowMs) break
        map.delete(key)
      }
    }
    for (const [key, until] of this.known) {
      if (until > now) break
      this.known.delete(key)
    }
  }
}

/** A parsed OWLAT_TRUSTED_PROXIES entry (shared/config.ts). */
export interface TrustedProxy {
  address: string
  prefix: number | null
  family: 'ipv4' | 'ipv6'
}

export function trustedProxyList(proxies: readonly TrustedProxy[]): BlockList {
  const list = new BlockList()
  for (const p of proxies) {
    if (p.prefix === null) list.addAddress(p.address, p.family)
    else list.addSubnet(p.address, p.prefix, p.family)
  }
  return list
}

/** `::ffff:10.0.0.1` is 10.0.0.1: one client, one key. */
function normalizeAddress(address: string): string | null {
  const plain = address.trim().replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '')
  if (isIPv4(plain)) return plain
  return isIPv6(plain) ? plain.toLowerCase() : null
}

function isTrusted(list: BlockList, address: string): boolean {
  return list.check(address, isIPv4(address) ? 'ipv4' : 'ipv6')
}

/**
 * The client's address: the connection's peer, unless that peer is a trusted proxy, in which case
 * the nearest X-Forwarded-For hop that is not a trusted proxy (hops further left could be forged
 * by the client). Untrusted peers' X-Forwarded-For is ignored.
 */
export function clientAddress(peer: string | undefined, forwardedFor: string | undefined, trusted: BlockList): string {
  const remote = peer === undefined ? null : normalizeAddress(peer)
  if (remote === null) return 'unknown'
  if (!forwardedFor || !isTrusted(trusted, remote)) return remote
  let client = remote
  for (const hop of forwardedFor.split(',').reverse()) {
    const address = normalizeAddress(hop)
    if (address === null) break
    client = address
    if (!isTrusted(trusted, address)) break
  }
  return client
}
