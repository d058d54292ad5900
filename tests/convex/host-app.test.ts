// @vitest-environment edge-runtime
/**
 * The component installed in a host's own Convex app (tests/fixtures/host/convex): its tables
 * stay apart from the host's, and the host's exposed functions forward to it and nothing else.
 */
import { describe, expect, it } from 'vitest'
import { internal } from '../fixtures/host/convex/_generated/api'
import { newHostBackend } from './harness'

describe('the component in a host app', () => {
  it('keeps its tables apart from the host\'s, even one of the same name', async () => {
    const t = newHostBackend()
    await t.mutation(internal.users.add, { email: 'ceo@acme.test', name: 'CEO', role: 'admin' })
    await t.mutation(internal.owlatSystem.mutation, { fn: 'users:create', args: { email: 'ops@acme.test', role: 'platform-admin', passwordHash: 'h' } })
    expect(await t.query(internal.users.list, {})).toEqual([{ email: 'ceo@acme.test', name: 'CEO' }])
    expect(await t.query(internal.owlatSystem.query, { fn: 'users:getByEmail', args: { email: 'ceo@acme.test' } })).toBeNull()
    expect(await t.query(internal.owlatSystem.query, { fn: 'users:getByEmail', args: { email: 'ops@acme.test' } })).toMatchObject({ email: 'ops@acme.test' })
    expect(await t.run(ctx => ctx.db.query('users').collect())).toHaveLength(1)
  })

  it('forwards the component\'s refusals with their data', async () => {
    const t = newHostBackend()
    const request = { kind: 'update', fromVersion: '1.2.2', toVersion: '1.3.0', requestedBy: { email: 'ceo@acme.test', via: 'web' } }
    const run = await t.mutation(internal.owlatSystem.mutation, { fn: 'runs:open', args: request }) as { id: string }
    const err = await t.mutation(internal.owlatSystem.mutation, { fn: 'runs:open', args: request }).catch((e: unknown) => e)
    expect((err as { data?: unknown }).data).toEqual({ code: 'ACTIVE_RUN', activeRunId: run.id })
  })

  it('refuses what is not a component function: a malformed name, an unknown one, bad arguments', async () => {
    const t = newHostBackend()
    const malformed = await t.query(internal.owlatSystem.query, { fn: '../users:list', args: {} }).catch((e: unknown) => e)
    expect((malformed as { data?: unknown }).data).toEqual({ code: 'BAD_FUNCTION_NAME', fn: '../users:list' })
    await expect(t.query(internal.owlatSystem.query, { fn: 'users:dropEverything', args: {} })).rejects.toThrow()
    await expect(t.query(internal.owlatSystem.query, { fn: 'users:getByEmail', args: { email: 42 } })).rejects.toThrow(/Validator/)
  })
})
