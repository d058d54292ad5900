// @vitest-environment edge-runtime
/** convex/users.ts through convex-test. */
import { describe, expect, it } from 'vitest'
import { newBackend, system } from './harness'

describe('users', () => {
  it('stores the email lower-case and finds the user by any casing and by id', async () => {
    const t = newBackend()
    const user = await t.mutation(system.users.create, { email: 'Ops@Example.COM', role: 'member', passwordHash: 'h' })
    expect(user).toMatchObject({ email: 'ops@example.com', role: 'member', passwordHash: 'h' })
    expect(await t.query(system.users.getByEmail, { email: 'OPS@example.com' })).toEqual(user)
    expect(await t.query(system.users.getById, { id: user.id })).toEqual(user)
  })

  it('refuses a duplicate email inside the mutation, also when two creates race', async () => {
    const t = newBackend()
    const results = await Promise.allSettled([
      t.mutation(system.users.create, { email: 'a@example.com', role: 'member', passwordHash: '1' }),
      t.mutation(system.users.create, { email: 'A@example.com', role: 'platform-admin', passwordHash: '2' }),
    ])
    expect(results.filter(r => r.status === 'fulfilled')).toHaveLength(1)
    const refused = results.find(r => r.status === 'rejected')
    expect((refused?.reason as { data?: unknown }).data).toEqual({ code: 'DUPLICATE_USER', email: 'a@example.com' })
    expect(await t.inComponent(ctx => ctx.db.query('users').withIndex('by_email', q => q.eq('email', 'a@example.com')).collect())).toHaveLength(1)
  })

  it('answers null for an id of another table or no id at all', async () => {
    const t = newBackend()
    const run = await t.mutation(system.runs.open, { kind: 'update', fromVersion: '1.0.0', toVersion: '1.1.0', requestedBy: { email: null, via: 'system' } })
    expect(await t.query(system.users.getById, { id: run.id })).toBeNull()
    expect(await t.query(system.users.getById, { id: 'garbage' })).toBeNull()
  })

  it('validates the role', async () => {
    const t = newBackend()
    // @ts-expect-error: the validator is the point of this case.
    await expect(t.mutation(system.users.create, { email: 'x@example.com', role: 'root', passwordHash: 'h' })).rejects.toThrow(/Validator|validator|role/)
  })
})
