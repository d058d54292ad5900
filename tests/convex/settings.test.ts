// @vitest-environment edge-runtime
/** convex/settings.ts through convex-test. */
import { describe, expect, it } from 'vitest'
import { internal } from '../../convex/_generated/api'
import { newBackend } from './harness'

describe('settings', () => {
  it('reads the stable channel until changed, keeps one settings document, and audits real changes only', async () => {
    const t = newBackend()
    expect(await t.query(internal.settings.get, {})).toEqual({ channel: 'stable' })
    expect(await t.mutation(internal.settings.update, { channel: 'stable' })).toEqual({ channel: 'stable' })
    expect(await t.mutation(internal.settings.update, { channel: 'beta' })).toEqual({ channel: 'beta' })
    expect(await t.mutation(internal.settings.update, { channel: 'beta' })).toEqual({ channel: 'beta' })
    expect(await t.mutation(internal.settings.update, {})).toEqual({ channel: 'beta' })
    expect(await t.query(internal.settings.get, {})).toEqual({ channel: 'beta' })
    expect(await t.run(ctx => ctx.db.query('settings').withIndex('by_scope').collect())).toHaveLength(1)
    const trail = await t.query(internal.audit.list, { limit: 10 })
    expect(trail.map(e => [e.action, e.detail])).toEqual([['settings.changed', 'channel: stable → beta']])
  })
})
