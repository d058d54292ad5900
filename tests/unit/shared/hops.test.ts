/** A run through required upgrade stops, hop by hop: one reading for the runner, the page and the CLI. */
import { describe, expect, it } from 'vitest'
import { committedVersions, currentHop, hopFrom, hopLabel, hopTo, isMultiHop, landedVersion, restoredVersion, runPath, stepsOfHop } from '../../../shared/hops'
import { runOutcome } from '../../../shared/run-outcome'
import { JOB_STEPS, type StepName } from '../../../shared/steps'

const hopSteps = (hop: number, statuses: Partial<Record<StepName, string>>) =>
  [...JOB_STEPS, ...(statuses.restore ? ['restore', 'verify-restore'] as const : [])]
    .map(name => ({ name, hop, status: statuses[name] ?? 'pending', log: [] as string[], error: statuses[name] === 'failed' ? 'unhealthy' : null }))
const done = Object.fromEntries(JOB_STEPS.map(name => [name, 'succeeded']))

describe('hops of a run', () => {
  const base = { kind: 'update' as const, fromVersion: '1.2.2', toVersion: '1.3.1', path: ['1.3.0', '1.3.1'], reason: null }

  it('reads a run of one hop as one hop, whether or not its steps say so', () => {
    const one = { fromVersion: '1.2.2', toVersion: '1.3.0', path: null, steps: hopSteps(0, done).map(({ hop: _, ...s }) => s) }
    expect(runPath(one)).toEqual(['1.3.0'])
    expect(isMultiHop(one)).toBe(false)
    expect(hopLabel(one, 0)).toBeNull()
    expect(committedVersions(one)).toEqual(['1.3.0'])
    expect(restoredVersion(one)).toBe('1.2.2')
  })

  it('names each hop by the versions it goes between', () => {
    expect([hopFrom(base, 0), hopTo(base, 0), hopFrom(base, 1), hopTo(base, 1)]).toEqual(['1.2.2', '1.3.0', '1.3.0', '1.3.1'])
    expect(hopLabel(base, 1)).toBe('hop 2 of 2 (1.3.0 → 1.3.1)')
  })

  it('follows the hop in progress and what the hops before committed', () => {
    const second = { ...base, steps: [...hopSteps(0, done), ...hopSteps(1, { preflight: 'running' })] }
    expect(currentHop(second)).toBe(1)
    expect(stepsOfHop(second.steps, 1).map(s => s.name)).toEqual([...JOB_STEPS])
    expect(committedVersions(second)).toEqual(['1.3.0'])
    expect(landedVersion(second)).toBe('1.3.0')
    expect(landedVersion({ ...base, steps: [...hopSteps(0, { preflight: 'running' }), ...hopSteps(1, {})] })).toBeNull()
  })

  it('says a second hop that failed was restored to what the first committed, and what to skip', () => {
    const failed = { ...done, 'verify': 'failed', 'watch': 'pending', 'commit': 'pending', 'restore': 'succeeded', 'verify-restore': 'succeeded' }
    const run = { ...base, status: 'rolled_back' as const, steps: [...hopSteps(0, done), ...hopSteps(1, failed)] }
    expect(restoredVersion(run)).toBe('1.3.0')
    const outcome = runOutcome(run)!
    expect(outcome.cause).toBe('In hop 2 of 2 (1.3.0 → 1.3.1): Verify new version failed: unhealthy')
    expect(outcome.restored).toBe('1.3.0 was restored and answers healthy')
    expect(outcome.nextStep).toMatch(/^Nothing else is needed now: 1\.3\.0 runs again\. Skip 1\.3\.1 /)
  })

  it('says a second hop that stopped before changing anything leaves the first one\'s version running', () => {
    const run = { ...base, status: 'failed' as const, steps: [...hopSteps(0, done), ...hopSteps(1, { preflight: 'succeeded', backup: 'skipped', stage: 'succeeded', pull: 'failed' })] }
    const outcome = runOutcome(run)!
    expect(outcome.changed).toBe(false)
    expect(outcome.restored).toBe('1.3.0, which the hop before committed, still runs')
    expect(outcome.nextStep).toMatch(/^Nothing was changed: check that this host reaches the image registry/)
  })
})
