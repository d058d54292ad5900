// @vitest-environment edge-runtime
/** convex/dismissals.ts through convex-test. */
import { describe, expect, it } from 'vitest'
import { newBackend, system } from './harness'

describe('dismissals', () => {
  it('records a dismissal once per admin and version, and audits it with the admin\'s email', async () => {
    const t = newBackend()
    // An admin the host signed in: not a user of the component's own table.
    const admin = { id: 'host-user-7', email: 'admin@example.com' }
    await t.mutation(system.dismissals.dismiss, { userId: admin.id, email: admin.email, version: '1.3.0' })
    await t.mutation(system.dismissals.dismiss, { userId: admin.id, email: 'changed@example.com', version: '1.3.0' })
    expect(await t.query(system.dismissals.isDismissed, { userId: admin.id, version: '1.3.0' })).toBe(true)
    expect(await t.query(system.dismissals.isDismissed, { userId: admin.id, version: '1.3.1' })).toBe(false)
    expect(await t.query(system.dismissals.isDismissed, { userId: 'someone-else', version: '1.3.0' })).toBe(false)
    const stored = await t.inComponent(ctx => ctx.db.query('dismissals').withIndex('by_user_id_and_version', q => q.eq('userId', admin.id)).collect())
    expect(stored).toHaveLength(1)
    expect(await t.query(system.audit.list, { limit: 10 })).toEqual([
      { action: 'release.dismissed', actor: 'admin@example.com', runId: null, detail: 'dismissed 1.3.0', at: expect.any(Number) },
    ])
  })
})
