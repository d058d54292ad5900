import { describe, expect, it } from 'vitest'
import { computeUpgradePath, installsOver, pathChainError, UpgradePathError } from '../../../shared/upgrade-path'

const r = (version: string, minimumFrom?: string) => ({ version, minimumFrom: minimumFrom ?? null })

describe('computeUpgradePath', () => {
  it('goes straight to a target without stops', () => {
    expect(computeUpgradePath('1.2.2', '1.3.0', [r('1.2.3'), r('1.3.0')])).toEqual(['1.3.0'])
  })

  it('goes through the newest release that satisfies the target\'s minimumFrom (the demo: 1.2.2 → 1.3.0 → 1.3.1)', () => {
    const demo = [r('1.2.2'), r('1.2.3'), r('1.3.0'), r('1.3.1', '1.3.0')]
    expect(computeUpgradePath('1.2.2', '1.3.1', demo)).toEqual(['1.3.0', '1.3.1'])
    // Already at or past the stop: one hop.
    expect(computeUpgradePath('1.3.0', '1.3.1', demo)).toEqual(['1.3.1'])
  })

  it('chains several stops, taking the newest release each hop can install', () => {
    const releases = [
      r('1.0.0'), r('1.1.0'), r('1.5.0'), r('1.9.0', '1.5.0'), r('2.0.0', '1.9.0'),
      r('2.1.0', '2.0.0'), r('2.2.0', '2.0.0'), r('3.0.0', '2.2.0'),
    ]
    expect(computeUpgradePath('1.0.0', '3.0.0', releases)).toEqual(['1.5.0', '1.9.0', '2.0.0', '2.2.0', '3.0.0'])
    expect(computeUpgradePath('1.9.0', '3.0.0', releases)).toEqual(['2.0.0', '2.2.0', '3.0.0'])
    // A target below the newest does not go past it.
    expect(computeUpgradePath('1.0.0', '2.1.0', releases)).toEqual(['1.5.0', '1.9.0', '2.0.0', '2.1.0'])
  })

  it('skips intermediate releases no stop requires', () => {
    expect(computeUpgradePath('1.0.0', '1.4.0', [r('1.1.0'), r('1.2.0'), r('1.3.0'), r('1.4.0')])).toEqual(['1.4.0'])
  })

  it('says what is missing when no release reaches the stop', () => {
    // 1.3.0 is not offered (another channel, or it failed to verify).
    expect(() => computeUpgradePath('1.2.2', '1.3.1', [r('1.2.3'), r('1.3.1', '1.3.0')]))
      .toThrow(/no upgrade path from 1\.2\.2 to 1\.3\.1: 1\.3\.1 installs only over 1\.3\.0 or newer, and no release available here between 1\.2\.3 and it installs over 1\.2\.3/)
    // The stop itself has a stop that cannot be met.
    expect(() => computeUpgradePath('1.0.0', '2.0.0', [r('1.5.0', '1.2.0'), r('2.0.0', '1.5.0')])).toThrow(UpgradePathError)
  })

  it('refuses a target that is unknown, not newer, or not a version', () => {
    expect(() => computeUpgradePath('1.2.2', '1.4.0', [r('1.3.0')])).toThrow(/1\.4\.0 is not among the releases/)
    expect(() => computeUpgradePath('1.3.0', '1.2.2', [r('1.2.2')])).toThrow(/not newer/)
    expect(() => computeUpgradePath('dev', '1.3.0', [r('1.3.0')])).toThrow(/not a release version/)
  })

  it('counts pre-releases by semver order', () => {
    // 1.4.0-beta.1 is newer than 1.3.1 and installs over 1.3.0, so it is the stop.
    expect(computeUpgradePath('1.3.0', '1.4.0-beta.2', [r('1.3.1', '1.3.0'), r('1.4.0-beta.1'), r('1.4.0-beta.2', '1.3.1')]))
      .toEqual(['1.4.0-beta.1', '1.4.0-beta.2'])
    expect(computeUpgradePath('1.3.0', '1.4.0-beta.2', [r('1.3.1', '1.3.0'), r('1.4.0-beta.2', '1.3.1')]))
      .toEqual(['1.3.1', '1.4.0-beta.2'])
  })
})

describe('installsOver', () => {
  it('compares with the release\'s minimumFrom', () => {
    expect(installsOver(r('1.3.1', '1.3.0'), '1.2.9')).toBe(false)
    expect(installsOver(r('1.3.1', '1.3.0'), '1.3.0')).toBe(true)
    expect(installsOver(r('1.3.1'), '0.1.0')).toBe(true)
  })
})

describe('pathChainError', () => {
  const demo = { '1.3.0': r('1.3.0'), '1.3.1': r('1.3.1', '1.3.0') }

  it('accepts a path through every required stop, and a target without one', () => {
    expect(pathChainError('1.2.2', [demo['1.3.0'], demo['1.3.1']])).toBeNull()
    expect(pathChainError('1.3.0', [demo['1.3.1']])).toBeNull()
    expect(pathChainError('1.2.2', [demo['1.3.0']])).toBeNull()
  })

  it('refuses a target that skips its required stop, saying which to install first', () => {
    expect(pathChainError('1.2.2', [demo['1.3.1']])).toBe('1.3.1 installs only over 1.3.0 or newer, not over 1.2.2: install 1.3.0 first (the plan\'s path goes through it)')
  })

  it('refuses a path with a stop too old for the next hop, or not going forward', () => {
    expect(pathChainError('1.2.2', [r('1.2.3'), demo['1.3.1']])).toBe('1.3.1 installs only over 1.3.0 or newer, not over 1.2.3: the path misses a required upgrade stop')
    expect(pathChainError('1.2.2', [demo['1.3.0'], r('1.2.9')])).toBe('the path goes from 1.3.0 to 1.2.9, which is not newer')
  })
})
