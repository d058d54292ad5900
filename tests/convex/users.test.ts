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

describe('users: sessions', () => {
  it('reads a user stored before session versions as version 0, and raises it on sign-out, a new password or another role', async () => {
    const t = newBackend()
    const id = await t.inComponent(ctx => ctx.db.insert('users', { email: 'old@example.com', role: 'platform-admin', passwordHash: 'h', createdAt: 1 }))
    expect(await t.query(system.users.getById, { id })).toMatchObject({ sessionVersion: 0 })
    expect(await t.mutation(system.users.revokeSessions, { id })).toMatchObject({ sessionVersion: 1 })
    expect(await t.mutation(system.users.update, { id, patch: { role: 'member' } })).toMatchObject({ role: 'member', sessionVersion: 2 })
    expect(await t.mutation(system.users.update, { id, patch: { passwordHash: 'h2' } })).toMatchObject({ passwordHash: 'h2', sessionVersion: 3 })
    expect(await t.mutation(system.users.update, { id, patch: { role: 'member' } })).toMatchObject({ sessionVersion: 3 })
  })

  it('counts concurrent sign-outs each, so none is lost', async () => {
    const t = newBackend()
    const user = await t.mutation(system.users.create, { email: 'a@example.com', role: 'member', passwordHash: 'h' })
    await Promise.all(Array.from({ length: 5 }, () => t.mutation(system.users.revokeSessions, { id: user.id })))
    expect(await t.query(system.users.getById, { id: user.id })).toMatchObject({ sessionVersion: 5 })
  })

  it('refuses to change a user who does not exist, with data the web turns into UserNotFoundError', async () => {
    const t = newBackend()
    const err = await t.mutation(system.users.update, { id: 'garbage', patch: { role: 'member' } }).catch((e: unknown) => e)
    expect((err as { data?: unknown }).data).toEqual({ code: 'USER_NOT_FOUND', userId: 'garbage' })
    expect(await t.mutation(system.users.revokeSessions, { id: 'garbage' })).toBeNull()
  })

  it('validates the patch', async () => {
    const t = newBackend()
    const user = await t.mutation(system.users.create, { email: 'a@example.com', role: 'member', passwordHash: 'h' })
    // @ts-expect-error: the validator is the point of this case.
    await expect(t.mutation(system.users.update, { id: user.id, patch: { sessionVersion: 0 } })).rejects.toThrow(/Validator|validator/)
  })
})
