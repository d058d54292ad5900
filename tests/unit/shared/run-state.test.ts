import { describe, expect, it } from 'vitest'
import { assertTransition, canTransition, isActiveStatus, isTerminalStatus } from '../../../shared/run-state'

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

  it('classifies statuses', () => {
    expect(isActiveStatus('running')).toBe(true)
    expect(isTerminalStatus('rolled_back')).toBe(true)
    expect(isActiveStatus('failed')).toBe(false)
  })
})
