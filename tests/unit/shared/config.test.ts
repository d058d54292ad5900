import { describe, expect, it } from 'vitest'
import { loadConfig } from '../../../shared/config'

describe('loadConfig', () => {
  it('uses the documented defaults', () => {
    const config = loadConfig({})
    expect(config.port).toBe(3000)
    expect(config.updaterUrl).toBe('http://127.0.0.1:3200')
    expect(config.driver).toBe('local')
    expect(config.releaseSource).toBe('directory')
    expect(config.verifyTimeoutMs).toBe(60_000)
    expect(config.watchMs).toBe(60_000)
    expect(config.releaseDir.endsWith('.data/releases')).toBe(true)
  })

  it('reads the watch window, and refuses a negative or unbounded one', () => {
    expect(loadConfig({ OWLAT_WATCH_MS: '1500' }).watchMs).toBe(1500)
    expect(loadConfig({ OWLAT_WATCH_MS: '0' }).watchMs).toBe(0)
    expect(() => loadConfig({ OWLAT_WATCH_MS: '-1' })).toThrow(/OWLAT_WATCH_MS/)
    expect(() => loadConfig({ OWLAT_WATCH_MS: 'a minute' })).toThrow(/OWLAT_WATCH_MS/)
    expect(() => loadConfig({ OWLAT_WATCH_MS: String(2 * 60 * 60_000) })).toThrow(/OWLAT_WATCH_MS: OWLAT_WATCH_MS is at most an hour/)
  })

  it('names every bad variable in one error', () => {
    expect(() => loadConfig({ PORT: 'eighty', OWLAT_DRIVER: 'kubernetes' }))
      .toThrow(/PORT: .*OWLAT_DRIVER: /)
  })

  it('reads the origins the page is served from, and refuses anything but origins', () => {
    expect(loadConfig({}).origins).toBeNull()
    expect(loadConfig({ OWLAT_ORIGIN: ' ' }).origins).toBeNull()
    expect(loadConfig({ OWLAT_ORIGIN: 'https://owlat.example.com, http://10.0.0.5:8080/' }).origins).toEqual(['https://owlat.example.com', 'http://10.0.0.5:8080'])
    for (const bad of ['owlat.example.com', 'https://owlat.example.com/settings', 'ftp://owlat.example.com', 'https://user@owlat.example.com']) {
      expect(() => loadConfig({ OWLAT_ORIGIN: bad }), bad).toThrow(/OWLAT_ORIGIN: .*is not an origin/)
    }
  })

  it('reads sign-in throttling and trusted proxies, with defaults, and refuses an unbounded lock', () => {
    expect(loadConfig({}).signIn).toEqual({ pairMaxFailures: 5, addressMaxFailures: 20, accountMaxFailures: 50, windowMs: 900_000, lockMs: 900_000 })
    expect(loadConfig({}).trustedProxies).toEqual([])
    expect(loadConfig({ OWLAT_SIGNIN_MAX_FAILURES: '3', OWLAT_SIGNIN_LOCK_MS: '1000' }).signIn).toMatchObject({ pairMaxFailures: 3, lockMs: 1000 })
    expect(() => loadConfig({ OWLAT_SIGNIN_LOCK_MS: String(2 * 24 * 60 * 60_000) })).toThrow(/OWLAT_SIGNIN_LOCK_MS: OWLAT_SIGNIN_LOCK_MS is at most a day/)
    expect(() => loadConfig({ OWLAT_SIGNIN_MAX_FAILURES: '0' })).toThrow(/OWLAT_SIGNIN_MAX_FAILURES/)
    expect(loadConfig({ OWLAT_TRUSTED_PROXIES: '10.0.0.1, 172.16.0.0/12, ::1, fd00::/8' }).trustedProxies).toEqual([
      { address: '10.0.0.1', prefix: null, family: 'ipv4' },
      { address: '172.16.0.0', prefix: 12, family: 'ipv4' },
      { address: '::1', prefix: null, family: 'ipv6' },
      { address: 'fd00::', prefix: 8, family: 'ipv6' },
    ])
    for (const bad of ['proxy.local', '10.0.0.0/33', '10.0.0.0/8/1', '10.0.0.0/x', '::1/129']) {
      expect(() => loadConfig({ OWLAT_TRUSTED_PROXIES: bad }), bad).toThrow(/OWLAT_TRUSTED_PROXIES: .*is not an IP address or subnet/)
    }
  })

  it('refuses a short instance secret', () => {
    expect(() => loadConfig({ OWLAT_INSTANCE_SECRET: 'short' })).toThrow('OWLAT_INSTANCE_SECRET must be at least 16 characters')
  })
})

describe('loadConfig: release sources', () => {
  it('defaults the GitHub API and a 6 h check interval with jitter', () => {
    const config = loadConfig({})
    expect(config.github).toEqual({ repo: null, apiUrl: 'https://api.github.com', token: null })
    expect(config.releaseCheck).toEqual({ intervalMs: 6 * 3600_000, jitterMs: 30 * 60_000 })
  })

  it('reads a GHES address, a repo and a token', () => {
    const config = loadConfig({ OWLAT_RELEASE_SOURCE: 'github', OWLAT_GITHUB_REPO: 'acme/owlat', OWLAT_GITHUB_API_URL: 'https://ghe.example/api/v3/', OWLAT_GITHUB_TOKEN: ' t ' })
    expect(config.github).toEqual({ repo: 'acme/owlat', apiUrl: 'https://ghe.example/api/v3', token: 't' })
  })

  it('refuses the github source without a repo, a bad repo and a too short interval', () => {
    expect(() => loadConfig({ OWLAT_RELEASE_SOURCE: 'github' })).toThrow(/OWLAT_GITHUB_REPO: required/)
    expect(() => loadConfig({ OWLAT_GITHUB_REPO: 'not a repo' })).toThrow(/OWLAT_GITHUB_REPO: must be owner\/name/)
    expect(() => loadConfig({ OWLAT_RELEASE_CHECK_INTERVAL_MS: '1000' })).toThrow(/OWLAT_RELEASE_CHECK_INTERVAL_MS/)
  })

  it('reads the scheduler tick, and stops on a bad webhook or SMTP URL naming the variable', () => {
    expect(loadConfig({}).scheduleTickMs).toBe(60_000)
    expect(loadConfig({ OWLAT_SCHEDULE_TICK_MS: '1000' }).scheduleTickMs).toBe(1000)
    expect(() => loadConfig({ OWLAT_SCHEDULE_TICK_MS: '999' })).toThrow(/OWLAT_SCHEDULE_TICK_MS: .*at least 1000/)
    expect(() => loadConfig({ OWLAT_WEBHOOK_URLS: 'https://ok.example.com/h, ftp://files.example.com/x', OWLAT_WEBHOOK_SECRET: 's'.repeat(32) })).toThrow(/OWLAT_WEBHOOK_URLS: .*not an http\(s\) URL/)
    expect(() => loadConfig({ OWLAT_WEBHOOK_URLS: 'https://ok.example.com/h' })).toThrow(/OWLAT_WEBHOOK_SECRET: required when OWLAT_WEBHOOK_URLS is set/)
    expect(() => loadConfig({ OWLAT_SMTP_URL: 'smtp://user:pass@' })).toThrow(/OWLAT_SMTP_URL: .*has no host/)
    expect(() => loadConfig({ OWLAT_WEBHOOK_URLS: 'https://ok.example.com/h', OWLAT_WEBHOOK_SECRET: 's'.repeat(32), OWLAT_SMTP_URL: 'smtp://mail.example.com:25' })).not.toThrow()
  })
})
