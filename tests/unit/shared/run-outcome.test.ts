/**
 * Issue 13, defect 3: a failure names its cause, the failing service's own last lines, what was
 * restored and one line of what to do now; the page and the CLI both show this.
 */
import { describe, expect, it } from 'vitest'
import { runOutcome, type RunLike } from '../../../shared/run-outcome'
import { formatOutputLine, outputHeader, parseOutputLine } from '../../../shared/service-output'
import { JOB_STEPS, REHEARSAL_STEPS, type StepName } from '../../../shared/steps'

function steps(statuses: Partial<Record<StepName, string>>, logs: Partial<Record<StepName, string[]>> = {}, errors: Partial<Record<StepName, string>> = {}) {
  const names: StepName[] = [...JOB_STEPS, ...(statuses.restore ? ['restore', 'verify-restore'] as const : [])]
  return names.map(name => ({ name, status: statuses[name] ?? 'pending', log: logs[name] ?? [], error: errors[name] ?? null }))
}

const output = [
  formatOutputLine({ service: 'web', version: '1.4.0-beta.1', at: Date.UTC(2026, 10, 20, 12, 0, 1), line: 'Listening on http://127.0.0.1:3000' }),
  formatOutputLine({ service: 'web', version: '1.4.0-beta.1', at: Date.UTC(2026, 10, 20, 12, 0, 2), line: '[owlat] health check failed: │ broken' }),
]

describe('service output lines', () => {
  it('round-trip through a step log, and the updater\'s own lines are not taken for them', () => {
    expect(parseOutputLine(output[1]!)).toEqual({ service: 'web', version: '1.4.0-beta.1', at: Date.UTC(2026, 10, 20, 12, 0, 2), line: '[owlat] health check failed: │ broken' })
    expect(parseOutputLine(formatOutputLine({ service: 'redis', version: null, at: 0, line: '' }))).toEqual({ service: 'redis', version: null, at: 0, line: '' })
    expect(parseOutputLine('waiting up to 60 s for http://127.0.0.1:3000')).toBeNull()
    expect(parseOutputLine(outputHeader('web', '1.4.0-beta.1', 2))).toBeNull()
  })
})

describe('runOutcome', () => {
  it('is nothing for a run in flight or one that succeeded', () => {
    const base = { kind: 'update' as const, fromVersion: '1.3.0', toVersion: '1.4.0', reason: null, steps: steps({}) }
    expect(runOutcome({ ...base, status: 'running' })).toBeNull()
    expect(runOutcome({ ...base, status: 'succeeded' })).toBeNull()
  })

  it('for a rolled-back update: the failing step, the web\'s own lines, what runs again, and to wait for a fix', () => {
    const run: RunLike = {
      kind: 'update', fromVersion: '1.3.0', toVersion: '1.4.0-beta.1', status: 'rolled_back',
      reason: 'verify failed: web did not become healthy within 8 s; restored 1.3.0',
      steps: steps(
        { 'preflight': 'succeeded', 'promote': 'succeeded', 'recreate': 'succeeded', 'verify': 'failed', 'restore': 'succeeded', 'verify-restore': 'succeeded' },
        { verify: ['waiting up to 8 s', outputHeader('web', '1.4.0-beta.1', 2), ...output] },
        { verify: 'web did not become healthy within 8 s (last: /api/healthz answered 503)' },
      ),
    }
    const outcome = runOutcome(run)!
    expect(outcome.failedStep).toBe('verify')
    expect(outcome.cause).toBe('Verify new version failed: web did not become healthy within 8 s (last: /api/healthz answered 503)')
    expect(outcome.output.map(o => o.line)).toEqual(['Listening on http://127.0.0.1:3000', '[owlat] health check failed: │ broken'])
    expect(outcome.restored).toBe('1.3.0 was restored and answers healthy')
    expect(outcome.changed).toBe(true)
    expect(outcome.nextStep).toMatch(/^Nothing else is needed now: 1\.3\.0 runs again\. Skip 1\.4\.0-beta\.1 until a fixed release is out/)
  })

  it('for a failure before anything changed: nothing was changed, and what to fix for that step', () => {
    const run: RunLike = {
      kind: 'update', fromVersion: '1.3.0', toVersion: '1.4.0', status: 'failed', reason: 'pull failed: …; nothing was changed',
      steps: steps({ preflight: 'succeeded', backup: 'skipped', stage: 'succeeded', pull: 'failed' }, {}, { pull: 'manifest unknown' }),
    }
    const outcome = runOutcome(run)!
    expect(outcome).toMatchObject({ failedStep: 'pull', restored: null, changed: false, output: [] })
    expect(outcome.nextStep).toBe('Nothing was changed: check that this host reaches the image registry (docker compose pull), then start the update again.')
  })

  it('for a restore that failed too: the stack may be down, recover by hand', () => {
    const run: RunLike = {
      kind: 'rollback', fromVersion: '1.3.0', toVersion: '1.2.2', status: 'failed', reason: '…; restore failed: …',
      steps: steps({ promote: 'succeeded', verify: 'failed', restore: 'failed' }, {}, { verify: 'timeout', restore: 'disk full' }),
    }
    const outcome = runOutcome(run)!
    expect(outcome.restored).toBe('restoring 1.3.0 failed')
    expect(outcome.nextStep).toMatch(/^The stack may be down: check it with owlat status and owlat logs web, and put 1\.3\.0 back by hand/)
  })

  it('for a run that never reached the updater: its reason, and to check the updater', () => {
    const outcome = runOutcome({ kind: 'update', fromVersion: '1.3.0', toVersion: '1.4.0', status: 'failed', reason: 'dispatch never completed', steps: [] })!
    expect(outcome).toMatchObject({ failedStep: null, cause: 'dispatch never completed' })
    expect(outcome.nextStep).toBe('Nothing was changed: check that the updater runs (owlat doctor), then start the update again.')
  })
})

describe('runOutcome of a rehearsal (issue 16)', () => {
  const rehearsalSteps = (statuses: Partial<Record<StepName, string>>, errors: Partial<Record<StepName, string>> = {}) =>
    REHEARSAL_STEPS.map(name => ({ name, status: statuses[name] ?? 'pending', log: name === 'verify' ? output : [], error: errors[name] ?? null }))

  it('names the step as the copy ran it, restores nothing, and says production was not changed', () => {
    const run: RunLike = {
      kind: 'rehearsal', fromVersion: '1.2.2', toVersion: '1.4.0-beta.1', status: 'failed', reason: 'verify failed',
      steps: rehearsalSteps({ 'preflight': 'succeeded', 'backup': 'succeeded', 'stage': 'succeeded', 'pull': 'succeeded', 'deploy-functions': 'skipped', 'recreate': 'succeeded', 'verify': 'failed', 'teardown': 'succeeded' }, { verify: 'web did not become healthy within 20 s' }),
    }
    const outcome = runOutcome(run)!
    expect(outcome.cause).toBe('Verify the new version on the copy failed: web did not become healthy within 20 s')
    expect(outcome.output.map(l => l.line)).toEqual(['Listening on http://127.0.0.1:3000', '[owlat] health check failed: │ broken'])
    expect(outcome).toMatchObject({ failedStep: 'verify', restored: null, changed: false })
    expect(outcome.nextStep).toBe('Nothing in production was changed and the copy of the data was thrown away. Do not update to 1.4.0-beta.1 until the cause above is fixed or a fixed release is out, then rehearse it again.')
    expect(`${outcome.cause} ${outcome.nextStep}`).not.toMatch(/rolled back|installed|restored/i)
  })

  it('says when the copy could not be removed', () => {
    const run: RunLike = {
      kind: 'rehearsal', fromVersion: '1.2.2', toVersion: '1.3.0', status: 'failed', reason: 'teardown failed',
      steps: rehearsalSteps({ preflight: 'succeeded', verify: 'succeeded', watch: 'succeeded', teardown: 'failed' }, { teardown: 'EBUSY' }),
    }
    const outcome = runOutcome(run)!
    expect(outcome.cause).toBe('Tear down the rehearsal failed: EBUSY')
    expect(outcome.nextStep).toContain('the rehearsal\'s copy could not be removed')
    expect(outcome.nextStep).toContain('The release itself passed on the copy')
  })

  it('says what to fix when the copy could not even be made', () => {
    const run: RunLike = {
      kind: 'rehearsal', fromVersion: '1.2.2', toVersion: '1.3.0', status: 'failed', reason: 'preflight failed',
      steps: rehearsalSteps({ preflight: 'failed', teardown: 'succeeded' }, { preflight: 'the copy of the data (2.0 GiB) and the minimum free space (1.0 GiB) need 3.0 GiB, but / has 1.0 GiB free' }),
    }
    expect(runOutcome(run)!.nextStep).toBe('Nothing in production was changed and the copy of the data was thrown away. Fix what the preflight check reports (free disk space for the copy, owlat status for the services), then rehearse again.')
  })
})
