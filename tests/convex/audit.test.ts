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

  it('records an override of failing checks with its reason, beside the run it started', async () => {
    const t = newBackend()
    const override = { reason: 'the updater is upgraded next week', checks: ['updater'] }
    const run = await t.mutation(system.runs.open, { kind: 'update', fromVersion: '1.2.2', toVersion: '1.3.1', requestedBy: { email: 'admin@example.com', via: 'web' }, override })
    expect(run.override).toEqual(override)
    expect(await t.query(system.audit.listForRun, { runId: run.id })).toEqual([
      { action: 'run.opened', actor: 'admin@example.com', runId: run.id, detail: 'update 1.2.2 → 1.3.1 via web', at: expect.any(Number) },
      { action: 'checks.ignored', actor: 'admin@example.com', runId: run.id, detail: 'update to 1.3.1 despite failing checks (updater): the updater is upgraded next week', at: expect.any(Number) },
    ])
    // A run without one has no such entry.
    await t.mutation(system.runs.update, { runId: run.id, patch: { status: 'failed', reason: 'x' } })
    const plain = await t.mutation(system.runs.open, { kind: 'update', fromVersion: '1.2.2', toVersion: '1.3.0', requestedBy: { email: null, via: 'cli' } })
    expect((await t.query(system.audit.listForRun, { runId: plain.id })).map(e => e.action)).toEqual(['run.opened'])
  })

  it('records an imported offline bundle with who brought it in', async () => {
    const t = newBackend()
    await t.mutation(system.releases.recordImport, { email: 'admin@example.com', version: '1.3.5', images: 3, indexExpired: false })
    await t.mutation(system.releases.recordImport, { email: 'ops@example.com', version: '1.3.6', images: 1, indexExpired: true })
    expect(await t.query(system.audit.list, { limit: 10 })).toEqual([
      { action: 'release.imported', actor: 'ops@example.com', runId: null, detail: 'imported 1.3.6 from an offline bundle (1 image loaded, its release index past its expiry)', at: expect.any(Number) },
      { action: 'release.imported', actor: 'admin@example.com', runId: null, detail: 'imported 1.3.5 from an offline bundle (3 images loaded)', at: expect.any(Number) },
    ])
  })
})
