// @vitest-environment edge-runtime
/** convex/audit.ts through convex-test: the trail the other mutations write. */
import { describe, expect, it } from 'vitest'
import { newBackend, system } from './harness'

describe('audit', () => {
  it('lists the newest entries first, limited, and one run\'s entries oldest first', async () => {
    const t = newBackend()
    const run = await t.mutation(system.runs.open, { kind: 'rollback', fromVersion: '1.3.0', toVersion: '1.2.2', requestedBy: { email: null, via: 'system' } })
    await t.mutation(system.settings.update, { channel: 'beta', actor: null })
    await t.mutation(system.runs.update, { runId: run.id, patch: { status: 'failed', reason: 'dispatch never completed' } })
    expect((await t.query(system.audit.list, { limit: 10 })).map(e => e.action)).toEqual(['run.closed', 'settings.changed', 'run.opened'])
    expect((await t.query(system.audit.list, { limit: 2 })).map(e => e.action)).toEqual(['run.closed', 'settings.changed'])
    const trail = await t.query(system.audit.listForRun, { runId: run.id })
    expect(trail).toEqual([
      { action: 'run.opened', actor: null, runId: run.id, detail: 'rollback 1.3.0 → 1.2.2 via system', at: expect.any(Number) },
      { action: 'run.closed', actor: null, runId: run.id, detail: 'rollback 1.3.0 → 1.2.2 ended failed: dispatch never completed', at: expect.any(Number) },
    ])
    expect(await t.query(system.audit.listForRun, { runId: 'not-a-run' })).toEqual([])
  })
})
