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
    expect(config.releaseDir.endsWith('.data/releases')).toBe(true)
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
})
