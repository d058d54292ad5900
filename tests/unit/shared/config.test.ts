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

  it('refuses a short instance secret', () => {
    expect(() => loadConfig({ OWLAT_INSTANCE_SECRET: 'short' })).toThrow('OWLAT_INSTANCE_SECRET must be at least 16 characters')
  })
})
