/**
 * The one place the module learns who is signed in (server/utils/user-resolver.ts), on a real h3
 * server: the app's resolver, asked once per request, its answer checked; no resolver, nobody.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createApp, eventHandler, toNodeListener } from 'h3'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'

type ResolverModule = typeof import('../../server/utils/user-resolver')

let resolver: ResolverModule
let server: Server
let url: string

beforeEach(async () => {
  // A fresh module per test: the registration is per process, as in a Nitro server.
  vi.resetModules()
  resolver = await import('../../server/utils/user-resolver')
  const app = createApp().use('/who', eventHandler(async (event) => {
    try {
      // Asked twice, as a guard and a handler would: the resolver still runs once.
      const first = await resolver.useOwlatUser(event)
      const second = await resolver.useOwlatUser(event)
      return { user: first, same: first === second }
    }
    catch (err) {
      const { statusCode, message } = err as { statusCode?: number, message: string }
      return { error: { statusCode: statusCode ?? null, message } }
    }
  }))
  server = createServer(toNodeListener(app))
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/who`
})

afterEach(async () => {
  vi.restoreAllMocks()
  await new Promise<void>(resolve => server.close(() => resolve()))
})

describe('defineOwlatUserResolver', () => {
  it('knows nobody until the app registers a resolver, and says why once', async () => {
    const logged = vi.spyOn(console, 'error').mockImplementation(() => {})
    expect(resolver.hasOwlatUserResolver()).toBe(false)
    expect(await (await fetch(url)).json()).toEqual({ user: null, same: true })
    await fetch(url)
    expect(logged).toHaveBeenCalledTimes(1)
    expect(String(logged.mock.calls[0]![0])).toContain('no user resolver is registered: call defineOwlatUserResolver()')
  })

  it('takes the user from the app\'s resolver, once per request, without fields the module does not use', async () => {
    let calls = 0
    resolver.defineOwlatUserResolver((event) => {
      calls++
      const role = event.headers.get('x-role')
      return role ? { id: 'acme-1', email: 'ada@acme.test', role: role as 'member', name: 'Ada' } as never : null
    })
    expect(resolver.hasOwlatUserResolver()).toBe(true)
    expect(await (await fetch(url, { headers: { 'x-role': 'platform-admin' } })).json())
      .toEqual({ user: { id: 'acme-1', email: 'ada@acme.test', role: 'platform-admin' }, same: true })
    expect(await (await fetch(url)).json()).toEqual({ user: null, same: true })
    expect(calls).toBe(2)
  })

  it('keeps no answer beyond its request, so a session the app revokes is refused on the very next request', async () => {
    const revoked = new Set<string>()
    resolver.defineOwlatUserResolver((event) => {
      const session = event.headers.get('x-session') ?? ''
      return session && !revoked.has(session) ? { id: 'acme-1', email: 'ada@acme.test', role: 'platform-admin' } : null
    })
    const ask = async () => ((await (await fetch(url, { headers: { 'x-session': 's1' } })).json()) as { user: unknown }).user
    expect(await ask()).toMatchObject({ id: 'acme-1' })
    revoked.add('s1')
    expect(await ask()).toBeNull()
  })

  it('refuses what is not a user: a 500 that names the problem, and nobody is let in', async () => {
    const logged = vi.spyOn(console, 'error').mockImplementation(() => {})
    resolver.defineOwlatUserResolver(async () => ({ id: 'acme-1', email: 'ada@acme.test', role: 'owner' }) as never)
    const { error } = await (await fetch(url)).json() as { error: { statusCode: number, message: string } }
    expect(error.statusCode).toBe(500)
    expect(error.message).toMatch(/^The app's user resolver returned an invalid user \(role: /)
    expect(String(logged.mock.calls[0]![0])).toContain('[owlat-system] the user resolver returned what is not a user or null: role:')
  })

  it('lets a failing resolver fail the request (the app\'s sign-in is down: nobody is let in)', async () => {
    resolver.defineOwlatUserResolver(async () => {
      throw new Error('session store unreachable')
    })
    expect(await (await fetch(url)).json()).toEqual({ error: { statusCode: null, message: 'session store unreachable' } })
  })
})

describe('the app\'s admin directory', () => {
  it('is none until the app registers one; the last registration wins', () => {
    expect(resolver.useOwlatAdminDirectory()).toBeUndefined()
    const first = resolver.defineOwlatAdminDirectory({ list: () => [] })
    const second = resolver.defineOwlatAdminDirectory({ list: () => [] })
    expect(resolver.useOwlatAdminDirectory()).toBe(second)
    expect(resolver.useOwlatAdminDirectory()).not.toBe(first)
  })

  it('lists the admins it returns, each with the preference kept with them (or none)', async () => {
    const directory = resolver.defineOwlatAdminDirectory({
      list: async () => [{ id: 'acme-ada', email: 'ada@acme.test', notifications: 'security' }, { id: 'acme-bo', email: 'bo@acme.test' }],
    })
    expect(await resolver.listDirectoryAdmins(directory)).toEqual([
      { id: 'acme-ada', email: 'ada@acme.test', notifications: 'security' },
      { id: 'acme-bo', email: 'bo@acme.test' },
    ])
  })

  it('refuses what is not a list of admins, naming what is wrong', async () => {
    const directory = resolver.defineOwlatAdminDirectory({ list: async () => [{ id: 'acme-ada', email: 'not-an-address', notifications: 'sometimes' }] })
    await expect(resolver.listDirectoryAdmins(directory)).rejects.toThrow(/^the app's admin directory returned what is not a list of admins \(0\.email: .*; 0\.notifications: notifications must be all, security or none\)$/)
  })
})
