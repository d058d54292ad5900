import { describe, expect, it } from 'vitest'
import { assertTransition, canTransition, isActiveStatus, isTerminalStatus, isWebChanging, queuedRun, runOfJob } from '../../../shared/run-state'
import { runSchema } from '../../../shared/schemas/api'
import type { Job } from '../../../shared/schemas/job'

describe('run state machine', () => {
  it('allows the forward moves', () => {
    expect(canTransition('queued', 'running')).toBe(true)
    expect(canTransition('running', 'rolled_back')).toBe(true)
    expect(canTransition('queued', 'failed')).toBe(true)
  })

  it('never reopens a finished run', () => {
    expect(() => assertTransition('succeeded', 'running')).toThrow('illegal run transition succeeded → running')
    expect(canTransition('failed', 'succeeded')).toBe(false)
    expect(canTransition('queued', 'succeeded')).toBe(false)
  })

  it('says when a run replaces the web: a running recreate, verify or restore, never in a rehearsal', () => {
    const step = (name: 'pull' | 'recreate' | 'verify' | 'restore' | 'watch', status: 'running' | 'succeeded' = 'running') => ({ name, status, startedAt: 1, endedAt: null, log: [], error: null })
    const run = (kind: 'update' | 'rehearsal', status: 'running' | 'failed', steps: ReturnType<typeof step>[]) => ({ kind, status, steps })
    for (const name of ['recreate', 'verify', 'restore'] as const) expect(isWebChanging(run('update', 'running', [step(name)]))).toBe(true)
    expect(isWebChanging(run('update', 'running', [step('recreate', 'succeeded'), step('watch')]))).toBe(false)
    expect(isWebChanging(run('update', 'running', [step('pull')]))).toBe(false)
    expect(isWebChanging(run('update', 'failed', [step('verify')]))).toBe(false)
    expect(isWebChanging(run('rehearsal', 'running', [step('recreate')]))).toBe(false)
  })

  it('classifies statuses', () => {
    expect(isActiveStatus('running')).toBe(true)
    expect(isTerminalStatus('rolled_back')).toBe(true)
    expect(isActiveStatus('failed')).toBe(false)
  })
})

describe('new runs (both stores make them the same way)', () => {
  const requestedBy = { email: null, via: 'cli' } as const

  it('opens a run queued, without a job or steps', () => {
    const run = queuedRun({ kind: 'update', fromVersion: '1.2.2', toVersion: '1.3.0', requestedBy }, 7)
    expect(run).toEqual({ kind: 'update', fromVersion: '1.2.2', toVersion: '1.3.0', requestedBy, jobId: null, status: 'queued', reason: null, startedAt: 7, endedAt: null, steps: [], override: null, path: null })
    expect(runSchema.safeParse({ id: 'r', ...run }).success).toBe(true)
  })

  it('records a job as a run that started when the job did, or was created when it never started', () => {
    const job: Job = { id: 'j', runId: null, kind: 'rollback', fromVersion: '1.3.0', toVersion: '1.2.2', status: 'failed', reason: 'no', requestedBy, createdAt: 3, startedAt: null, endedAt: 9, steps: [], backup: null }
    expect(runOfJob(job)).toEqual({ jobId: 'j', kind: 'rollback', fromVersion: '1.3.0', toVersion: '1.2.2', status: 'failed', reason: 'no', requestedBy, startedAt: 3, endedAt: 9, steps: [], override: null, path: null })
    expect(runOfJob({ ...job, startedAt: 5 }).startedAt).toBe(5)
  })
})
