import { describe, expect, it } from 'vitest'
import { releasesBetween } from '../../../shared/version'

const list = ['1.2.2', '1.2.3', '1.3.0-beta.1', '1.3.0', '1.4.0', '1.10.0', '1.9.0', '2.0.0-rc.1'].map(version => ({ version }))
const versions = (xs: { version: string }[]) => xs.map(x => x.version)

describe('releasesBetween', () => {
  it('lists what an update jumps over, newest first, target included, current excluded', () => {
    expect(versions(releasesBetween(list, '1.2.2', '1.10.0', 'stable'))).toEqual(['1.10.0', '1.9.0', '1.4.0', '1.3.0', '1.2.3'])
  })

  it('keeps pre-releases to the beta channel', () => {
    expect(versions(releasesBetween(list, '1.2.3', '1.3.0', 'beta'))).toEqual(['1.3.0', '1.3.0-beta.1'])
    expect(versions(releasesBetween(list, '1.2.3', '1.3.0', 'stable'))).toEqual(['1.3.0'])
  })

  it('is empty for a current version that is not semver, or no gap', () => {
    expect(releasesBetween(list, 'dev', '1.10.0', 'stable')).toEqual([])
    expect(releasesBetween(list, '1.10.0', '1.10.0', 'stable')).toEqual([])
  })
})
