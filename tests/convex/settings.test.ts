// @vitest-environment edge-runtime
/** convex/settings.ts through convex-test. */
import { describe, expect, it } from 'vitest'
import { newBackend, system } from './harness'

describe('settings', () => {
  it('reads the stable channel until changed, keeps one settings document, and audits real changes only, naming who made them', async () => {
    const t = newBackend()
    const actor = 'admin@example.com'
    expect(await t.query(system.settings.get, {})).toMatchObject({ channel: 'stable' })
    expect(await t.mutation(system.settings.update, { channel: 'stable', actor })).toMatchObject({ channel: 'stable' })
    expect(await t.mutation(system.settings.update, { channel: 'beta', actor })).toMatchObject({ channel: 'beta' })
    expect(await t.mutation(system.settings.update, { channel: 'beta', actor: null })).toMatchObject({ channel: 'beta' })
    expect(await t.mutation(system.settings.update, { actor: null })).toMatchObject({ channel: 'beta' })
    expect(await t.query(system.settings.get, {})).toMatchObject({ channel: 'beta' })
    expect(await t.inComponent(ctx => ctx.db.query('settings').withIndex('by_scope').collect())).toHaveLength(1)
    const trail = await t.query(system.audit.list, { limit: 10 })
    expect(trail.map(e => [e.action, e.actor, e.detail])).toEqual([['settings.changed', actor, 'channel: stable → beta']])
  })
})
