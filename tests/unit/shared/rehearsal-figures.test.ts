import { describe, expect, it } from 'vitest'
import { failedRehearsal, latestRehearsal, rehearsalFigures } from '../../../shared/rehearsal'
import type { RunStatus } from '../../../shared/run-state'
import { REHEARSAL_STEPS, type StepName } from '../../../shared/steps'

/** A rehearsal whose steps each took `ms[name]` (default 1000), one after the other from t=0. */
function rehearsal(status: RunStatus, ms: Partial<Record<StepName, number | 'failed' | 'pending'>> = {}, extra: { toVersion?: string, endedAt?: number, kind?: string } = {}) {
  let at = 0
  const steps = REHEARSAL_STEPS.map((name) => {
    const spec = ms[name] ?? 1000
    if (spec === 'pending') return { name, status: 'pending', startedAt: null, endedAt: null }
    const startedAt = at
    at += spec === 'failed' ? 500 : spec
    return { name, status: spec === 'failed' ? 'failed' : 'succeeded', startedAt, endedAt: at }
  })
  return { id: `r-${Math.random()}`, kind: extra.kind ?? 'rehearsal', toVersion: extra.toVersion ?? '1.3.0', status, startedAt: 0, endedAt: extra.endedAt ?? at, steps }
}

describe('rehearsalFigures', () => {
  it('times each step and takes the real update\'s downtime from the copy\'s recreate and verify', () => {
    const figures = rehearsalFigures(rehearsal('succeeded', { recreate: 2500, verify: 4000, watch: 60_000 }))
    expect(figures.expectedDowntimeMs).toBe(6500)
    expect(figures.totalMs).toBe(6 * 1000 + 2500 + 4000 + 60_000)
    expect(figures.steps.find(s => s.name === 'recreate')).toEqual({ name: 'recreate', label: 'Start the new version on the copy', hop: 0, status: 'succeeded', durationMs: 2500 })
  })

  it('measures no downtime when verify did not pass: the copy never came up', () => {
    const figures = rehearsalFigures(rehearsal('failed', { verify: 'failed', watch: 'pending' }))
    expect(figures.expectedDowntimeMs).toBeNull()
    expect(figures.steps.find(s => s.name === 'watch')!.durationMs).toBeNull()
  })
})

describe('failedRehearsal', () => {
  it('warns against a release whose latest rehearsal failed, until a newer one succeeds', () => {
    const failed = rehearsal('failed', { verify: 'failed' }, { endedAt: 100 })
    expect(failedRehearsal([failed], '1.3.0')).toBe(failed)
    expect(failedRehearsal([failed], '1.3.1')).toBeNull()
    const passed = rehearsal('succeeded', {}, { endedAt: 200 })
    expect(failedRehearsal([passed, failed], '1.3.0')).toBeNull()
    expect(latestRehearsal([failed, passed], '1.3.0')).toBe(passed)
    // An update of the release is no rehearsal of it.
    expect(failedRehearsal([failed, rehearsal('succeeded', {}, { endedAt: 300, kind: 'update' })], '1.3.0')).toBe(failed)
  })
})
