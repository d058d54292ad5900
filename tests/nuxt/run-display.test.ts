/**
 * What the page says of a run in the watch window: where it should be (landingVersion), how much
 * of the window is left, and the version card's "watching, 12 s of 60 s".
 */
import { describe, expect, it } from 'vitest'
import type { Step } from '../../shared/schemas/common'
import { landingVersion, newVersionRuns, runActivity, watchCountdown } from '../../app/helpers/run-display'
import { aRun } from './fixtures'

const step = (name: Step['name'], status: Step['status'], startedAt: number | null = null): Step =>
  ({ name, status, startedAt, endedAt: status === 'running' || status === 'pending' ? null : (startedAt ?? 0) + 1, log: [], error: null })

describe('run display in the watch window', () => {
  const verifying = aRun({ status: 'running', steps: [step('verify', 'running', 1_000), step('watch', 'pending')] })
  const watching = aRun({ status: 'running', steps: [step('verify', 'succeeded', 1_000), step('watch', 'running', 2_000)] })
  const restoring = aRun({ status: 'running', steps: [step('verify', 'succeeded', 1_000), step('watch', 'failed', 2_000), step('restore', 'running', 5_000)] })

  it('lands on the target once verify passed, on the previous version once restored, nowhere in between', () => {
    expect([verifying, watching, restoring].map(newVersionRuns)).toEqual([false, true, false])
    expect(landingVersion(verifying)).toBeNull()
    expect(landingVersion(watching)).toBe('1.3.0')
    expect(landingVersion(restoring)).toBeNull()
    expect(landingVersion(aRun({ status: 'succeeded' }))).toBe('1.3.0')
    expect(landingVersion(aRun({ status: 'rolled_back' }))).toBe('1.2.2')
    expect(landingVersion(aRun({ status: 'failed' }))).toBeNull()
  })

  it('counts the window down from when watch started, only while it runs', () => {
    expect(watchCountdown(watching, 14_000, 60_000)).toEqual({ windowMs: 60_000, remainingMs: 48_000 })
    expect(watchCountdown(watching, 90_000, 60_000)).toEqual({ windowMs: 60_000, remainingMs: 0 })
    expect(watchCountdown(watching, 14_000, null)).toBeNull()
    expect(watchCountdown(verifying, 14_000, 60_000)).toBeNull()
    expect(watchCountdown(restoring, 14_000, 60_000)).toBeNull()
  })

  it('says how far into the window the run is on the version card', () => {
    expect(runActivity(watching, 14_000, 30_000, 60_000)).toBe('Installing 1.3.0 (watching, 12 s of 1 min 0 s)')
    expect(runActivity(verifying, 4_000, 30_000, 60_000)).toBe('Installing 1.3.0 (verifying, 3 s of 30 s)')
  })

  it('lands a run through a required stop on its target only: an earlier hop\'s web is restarted by the next one', () => {
    const hop = (n: number, steps: Step[]) => steps.map(s => ({ ...s, hop: n }))
    const committed = hop(0, [step('verify', 'succeeded', 1_000), step('watch', 'succeeded', 2_000), step('commit', 'succeeded', 3_000)])
    const path = ['1.3.0', '1.3.1']
    const firstWatching = aRun({ status: 'running', fromVersion: '1.2.2', toVersion: '1.3.1', path, steps: [...hop(0, [step('verify', 'succeeded', 1_000), step('watch', 'running', 2_000)]), ...hop(1, [step('verify', 'pending')])] })
    const secondPulling = aRun({ status: 'running', fromVersion: '1.2.2', toVersion: '1.3.1', path, steps: [...committed, ...hop(1, [step('pull', 'running', 4_000), step('verify', 'pending')])] })
    const secondWatching = aRun({ status: 'running', fromVersion: '1.2.2', toVersion: '1.3.1', path, steps: [...committed, ...hop(1, [step('verify', 'succeeded', 4_000), step('watch', 'running', 5_000)])] })
    expect([firstWatching, secondPulling, secondWatching].map(landingVersion)).toEqual([null, null, '1.3.1'])
    expect(runActivity(firstWatching, 14_000, 30_000, 60_000)).toBe('Installing 1.3.0, on the way to 1.3.1 (watching, 12 s of 1 min 0 s)')
    expect(watchCountdown(secondWatching, 14_000, 60_000)).toEqual({ windowMs: 60_000, remainingMs: 51_000 })
    const rolledBack = aRun({ status: 'rolled_back', fromVersion: '1.2.2', toVersion: '1.3.1', path, steps: [...committed, ...hop(1, [step('verify', 'failed', 4_000), step('restore', 'succeeded', 5_000)])] })
    expect(landingVersion(rolledBack)).toBe('1.3.0')
  })
})
