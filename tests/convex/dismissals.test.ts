// @vitest-environment edge-runtime
/** convex/dismissals.ts through convex-test. */
import { describe, expect, it } from 'vitest'
import { internal } from '../../convex/_generated/api'
import { newBackend } from './harness'

describe('dismissals', () => {
  it('records a dismissal once per admin and version, and audits it with the admin\'s email', async () => {
    const t = newBackend()
    const admin = await t.mutation(internal.users.create, { email: 'admin@example.com', role: 'platform-admin', passwordHash: 'h' })
    await t.mutation(internal.dismissals.dismiss, { userId: admin.id, version: '1.3.0' })
    await t.mutation(internal.dismissals.dismiss, { userId: admin.id, version: '1.3.0' })
    expect(await t.query(internal.dismissals.isDismissed, { userId: admin.id, version: '1.3.0' })).toBe(true)
    expect(await t.query(internal.dismissals.isDismissed, { userId: admin.id, version: '1.3.1' })).toBe(false)
    expect(await t.query(internal.dismissals.isDismissed, { userId: 'someone-else', version: '1.3.0' })).toBe(false)
    const stored = await t.run(ctx => ctx.db.query('dismissals').withIndex('by_user_id_and_version', q => q.eq('userId', admin.id)).collect())
    expect(stored).toHaveLength(1)
    expect(await t.query(internal.audit.list, { limit: 10 })).toEqual([
      { action: 'release.dismissed', actor: 'admin@example.com', runId: null, detail: 'dismissed 1.3.0', at: expect.any(Number) },
    ])
  })
})
