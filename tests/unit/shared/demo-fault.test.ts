import { describe, expect, it } from 'vitest'
import { faultActive, parseDemoFault } from '../../../shared/demo-fault'

describe('demo faults', () => {
  it('reads `unhealthy` as unhealthy from the start and `unhealthy-after:<ms>` as healthy until then', () => {
    expect(parseDemoFault('unhealthy')).toEqual({ unhealthyAfterMs: 0 })
    expect(parseDemoFault('unhealthy-after:15000')).toEqual({ unhealthyAfterMs: 15_000 })
    expect(faultActive(parseDemoFault('unhealthy'), 0)).toBe(true)
    expect(faultActive(parseDemoFault('unhealthy-after:15000'), 14_999)).toBe(false)
    expect(faultActive(parseDemoFault('unhealthy-after:15000'), 15_000)).toBe(true)
  })

  it('ignores what it does not know: a healthy web stays healthy', () => {
    for (const value of [undefined, '', 'healthy', 'unhealthy-after:', 'unhealthy-after:-5', 'unhealthy-after:1e3', 'Unhealthy']) {
      expect(parseDemoFault(value), String(value)).toBeNull()
      expect(faultActive(parseDemoFault(value), 1e9)).toBe(false)
    }
  })
})
