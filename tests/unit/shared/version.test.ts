import { describe, expect, it } from 'vitest'
import { compareVersions, isUpdate, isVersion, newestApplicable, releasesBetween, sortVersionsDesc, versionFromTag } from '../../../shared/version'

describe('versionFromTag', () => {
  it.each([
    ['v1.2.3', '1.2.3'],
    ['v1.4.0-beta.1', '1.4.0-beta.1'],
    ['v10.0.0-rc.2', '10.0.0-rc.2'],
  ])('accepts the product tag %s', (tag, version) => {
    expect(versionFromTag(tag)).toBe(version)
  })

  it.each(['server-v1.2.3', 'desktop-v1.2.3', 'v1.2', 'latest', '1.2.3', 'v01.2.3', 'v1.2.3.4', ''])(
    'ignores %j instead of parsing it to 0.0.0',
    (tag) => {
      expect(versionFromTag(tag)).toBeNull()
    },
  )
})

describe('ordering', () => {
  it('compares numerically and pre-releases by identifier', () => {
    expect(compareVersions('1.10.0', '1.9.0')).toBe(1)
    expect(compareVersions('1.2.0-beta.10', '1.2.0-beta.9')).toBe(1)
    expect(compareVersions('1.2.0', '1.2.0-rc.1')).toBe(1)
  })

  it('sorts newest first', () => {
    const sorted = sortVersionsDesc(['1.9.0', '1.10.0', '1.2.0-beta.9', '1.2.0-beta.10', '1.2.0'], v => v)
    expect(sorted).toEqual(['1.10.0', '1.9.0', '1.2.0', '1.2.0-beta.10', '1.2.0-beta.9'])
  })

  it('knows a strict version', () => {
    expect(isVersion('1.3.0')).toBe(true)
    expect(isVersion('v1.3.0')).toBe(false)
    expect(isVersion('^1.3.0')).toBe(false)
    expect(isVersion('dev')).toBe(false)
  })
})

describe('applicable updates', () => {
  const releases = ['1.2.2', '1.2.3', '1.3.0', '1.4.0-beta.1'].map(version => ({ version }))

  it('offers the newest stable release on the stable channel', () => {
    expect(newestApplicable(releases, '1.2.2', 'stable')?.version).toBe('1.3.0')
  })

  it('offers pre-releases only on the beta channel', () => {
    expect(newestApplicable(releases, '1.3.0', 'stable')).toBeNull()
    expect(newestApplicable(releases, '1.3.0', 'beta')?.version).toBe('1.4.0-beta.1')
  })

  it('offers a release whose manifest names the beta channel only on beta, even with a stable version', () => {
    const withBeta = [...releases, { version: '1.3.5', channel: 'beta' as const }]
    expect(newestApplicable(withBeta, '1.2.2', 'stable')?.version).toBe('1.3.0')
    expect(newestApplicable(withBeta, '1.3.0', 'beta')?.version).toBe('1.4.0-beta.1')
    expect(newestApplicable(withBeta, '1.2.2', 'beta')?.version).toBe('1.4.0-beta.1')
    expect(releasesBetween(withBeta, '1.2.2', '1.3.0', 'stable').map(r => r.version)).toEqual(['1.3.0', '1.2.3'])
  })

  it('never offers an update to a non-semver current version', () => {
    expect(isUpdate('1.3.0', 'dev', 'stable')).toBe(false)
    expect(newestApplicable(releases, 'dev', 'beta')).toBeNull()
  })

  it('does not offer the running or an older version', () => {
    expect(isUpdate('1.3.0', '1.3.0', 'stable')).toBe(false)
    expect(isUpdate('1.2.3', '1.3.0', 'stable')).toBe(false)
  })
})
