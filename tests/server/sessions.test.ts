/**
 * Sessions end when they must, and sign-in is throttled, against the real stack (the sidecar
 * subprocess supervising the built standalone app). Requests leave from several loopback
 * addresses (127.0.0.x) so the web sees several real clients; 127.0.0.3 is a trusted proxy.
 */
import { request } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { signInLocksAnswerSchema, usersAnswerSchema } from '../../shared/schemas/api'
import { ADMIN, createUserViaScript, MEMBER, startStack, WEB_PORT, type Stack } from './stack'

const OPS = { email: 'ops@example.com', password: 'ops-password-1' }
const PAIR_LIMIT = 3
const PROXY = '127.0.0.3'

let stack: Stack

interface Answer { status: number, headers: Record<string, string | string[] | undefined>, body: unknown, cookie: string | null }

/** One request from `from` (a loopback address of this machine), as its own client. */
function call(method: string, path: string, opts: { cookie?: string | null, body?: unknown, from?: string, headers?: Record<string, string> } = {}): Promise<Answer> {
  const payload = opts.body === undefined ? undefined : JSON.stringify(opts.body)
  return new Promise((resolve, reject) => {
    const req = request({
      host: '127.0.0.1',
      port: WEB_PORT,
      method,
      path,
      localAddress: opts.from ?? '127.0.0.1',
      headers: {
        accept: 'application/json',
        ...(payload === undefined ? {} : { 'content-type': 'application/json' }),
        ...(opts.cookie ? { cookie: opts.cookie } : {}),
        ...opts.headers,
      },
    }, (res) => {
      let text = ''
      res.setEncoding('utf8').on('data', (d: string) => (text += d)).on('end', () => {
        let body: unknown = text
        try {
          body = JSON.parse(text)
        }
        catch {
          // not JSON: keep the text
        }
        const setCookie = res.headers['set-cookie']?.map(c => c.split(';')[0]).find(c => c?.startsWith('owlat-session=') && c !== 'owlat-session=')
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, cookie: setCookie ?? null })
      })
    })
    req.on('error', reject)
    req.end(payload)
  })
}

function login(user: { email: string, password: string }, opts: { from?: string, headers?: Record<string, string> } = {}): Promise<Answer> {
  return call('POST', '/api/auth/login', { body: user, ...opts })
}

async function signIn(user: { email: string, password: string }): Promise<string> {
  const answer = await login(user)
  expect(answer.status, JSON.stringify(answer.body)).toBe(200)
  expect(answer.cookie).toBeTruthy()
  return answer.cookie!
}

/** What the module's guard says of a cookie: 200 for an admin's live session, 401 for an ended one. */
async function versionStatus(cookie: string): Promise<number> {
  return (await call('GET', '/api/system/version', { cookie })).status
}

async function whoIs(cookie: string): Promise<unknown> {
  return ((await call('GET', '/api/owlat-system/user', { cookie })).body as { user: unknown }).user
}

async function userId(adminCookie: string, email: string): Promise<string> {
  const answer = await call('GET', '/api/users', { cookie: adminCookie })
  expect(answer.status).toBe(200)
  const user = usersAnswerSchema.parse(answer.body).users.find(u => u.email === email)
  expect(user).toBeDefined()
  return user!.id
}

function message(answer: Answer): string {
  return (answer.body as { message?: string }).message ?? ''
}

beforeAll(async () => {
  stack = await startStack({
    env: {
      OWLAT_SIGNIN_MAX_FAILURES: String(PAIR_LIMIT),
      OWLAT_SIGNIN_ADDRESS_MAX_FAILURES: '100',
      OWLAT_SIGNIN_ACCOUNT_MAX_FAILURES: '100',
      OWLAT_SIGNIN_LOCK_MS: String(10 * 60_000),
      OWLAT_TRUSTED_PROXIES: PROXY,
    },
  })
  const ops = createUserViaScript(stack.dataDir, ['--email', OPS.email, '--password', OPS.password, '--role', 'platform-admin'])
  if (ops.status !== 0) throw new Error(`create-user failed: ${ops.stderr}`)
}, 300_000)

afterAll(async () => {
  await stack?.stop()
})

describe('sessions end', () => {
  it('on sign-out: every session of the user, also a copy of the cookie kept from before', async () => {
    const kept = await signIn(ADMIN)
    const other = await signIn(ADMIN)
    expect(await versionStatus(kept)).toBe(200)
    expect(await versionStatus(other)).toBe(200)

    expect((await call('POST', '/api/auth/logout', { cookie: other })).status).toBe(200)
    expect(await versionStatus(kept)).toBe(401)
    expect(await versionStatus(other)).toBe(401)
    expect(await whoIs(kept)).toBeNull()
    // nuxt-auth-utils' own session endpoint does not vouch for it either.
    expect((await call('GET', '/api/_auth/session', { cookie: kept })).status).toBe(401)

    expect(await versionStatus(await signIn(ADMIN))).toBe(200)
  })

  it('on a new password: every other session; this browser gets a fresh one, and only the new password signs in', async () => {
    const kept = await signIn(OPS)
    const changing = await signIn(OPS)
    const wrong = await call('POST', '/api/auth/password', { cookie: changing, body: { currentPassword: 'not-it', newPassword: 'ops-password-2' } })
    expect(wrong.status).toBe(400)
    expect(await versionStatus(kept)).toBe(200)

    const changed = await call('POST', '/api/auth/password', { cookie: changing, body: { currentPassword: OPS.password, newPassword: 'ops-password-2' } })
    expect(changed.status, JSON.stringify(changed.body)).toBe(200)
    expect(changed.cookie).toBeTruthy()
    expect(await versionStatus(kept)).toBe(401)
    expect(await versionStatus(changing)).toBe(401)
    expect(await versionStatus(changed.cookie!)).toBe(200)

    expect((await login(OPS)).status).toBe(401)
    OPS.password = 'ops-password-2'
    expect(await versionStatus(await signIn(OPS))).toBe(200)
  })

  it('on a role removal or a password an admin sets: every session of that user (401, not 403)', async () => {
    const admin = await signIn(ADMIN)
    const ops = await signIn(OPS)
    const id = await userId(admin, OPS.email)

    const demoted = await call('PATCH', `/api/users/${id}`, { cookie: admin, body: { role: 'member' } })
    expect(demoted.status, JSON.stringify(demoted.body)).toBe(200)
    expect(demoted.body).toMatchObject({ user: { email: OPS.email, role: 'member' } })
    expect(await versionStatus(ops)).toBe(401)
    expect(await whoIs(ops)).toBeNull()
    // Signed in again, the member is a member.
    const asMember = await signIn(OPS)
    expect(await versionStatus(asMember)).toBe(403)

    const reset = await call('PATCH', `/api/users/${id}`, { cookie: admin, body: { role: 'platform-admin', password: 'ops-password-3' } })
    expect(reset.status).toBe(200)
    expect(await versionStatus(asMember)).toBe(401)
    OPS.password = 'ops-password-3'
    expect(await versionStatus(await signIn(OPS))).toBe(200)
    // The admin who made the changes is still signed in.
    expect(await versionStatus(admin)).toBe(200)
  })

  it('lets only admins list and change users, and validates what they send', async () => {
    const admin = await signIn(ADMIN)
    const member = await signIn(MEMBER)
    expect((await call('GET', '/api/users')).status).toBe(401)
    expect((await call('GET', '/api/users', { cookie: member })).status).toBe(403)
    const id = await userId(admin, MEMBER.email)
    expect((await call('PATCH', `/api/users/${id}`, { cookie: member, body: { role: 'platform-admin' } })).status).toBe(403)
    expect((await call('PATCH', `/api/users/${id}`, { cookie: admin, body: { role: 'owner' } })).status).toBe(400)
    expect((await call('PATCH', `/api/users/${id}`, { cookie: admin, body: { password: 'short' } })).status).toBe(400)
    expect((await call('PATCH', `/api/users/${id}`, { cookie: admin, body: {} })).status).toBe(400)
    expect((await call('PATCH', '/api/users/no-such-user', { cookie: admin, body: { role: 'member' } })).status).toBe(404)
    // Two admins (ADMIN, OPS): one may go, the last one may not.
    const opsId = await userId(admin, OPS.email)
    expect((await call('PATCH', `/api/users/${opsId}`, { cookie: admin, body: { role: 'member' } })).status).toBe(200)
    const adminId = await userId(admin, ADMIN.email)
    const last = await call('PATCH', `/api/users/${adminId}`, { cookie: admin, body: { role: 'member' } })
    expect(last.status).toBe(409)
    expect(message(last)).toMatch(/last platform admin/)
    expect(await versionStatus(admin)).toBe(200)
    expect((await call('PATCH', `/api/users/${opsId}`, { cookie: admin, body: { role: 'platform-admin' } })).status).toBe(200)
    const listed = usersAnswerSchema.parse((await call('GET', '/api/users', { cookie: admin })).body)
    expect(JSON.stringify(listed)).not.toMatch(/passwordHash|scrypt/)
    // Nothing changed for the member.
    expect(await whoIs(member)).toMatchObject({ email: MEMBER.email, role: 'member' })
  })
})

describe('sign-in throttling', () => {
  it('answers repeated wrong passwords with 429 and Retry-After, even for the right password then', async () => {
    for (let i = 0; i < PAIR_LIMIT; i++) {
      expect((await login({ email: MEMBER.email, password: `wrong-${i}` })).status).toBe(401)
    }
    for (const password of ['wrong-again', MEMBER.password]) {
      const locked = await login({ email: MEMBER.email, password })
      expect(locked.status).toBe(429)
      const retryAfter = Number(locked.headers['retry-after'])
      expect(Number.isInteger(retryAfter)).toBe(true)
      expect(retryAfter).toBeGreaterThan(0)
      expect(retryAfter).toBeLessThanOrEqual(600)
      expect(message(locked)).toMatch(/Too many failed sign-ins; try again in \d+ s/)
    }
  })

  it('holds the pair only: the same account from another address signs in', async () => {
    expect((await login(MEMBER, { from: '127.0.0.2' })).status).toBe(200)
  })

  it('ignores X-Forwarded-For from a client that is not a trusted proxy', async () => {
    expect((await login(MEMBER, { headers: { 'x-forwarded-for': '198.51.100.1' } })).status).toBe(429)
  })

  it('behind a trusted proxy, keys clients by the address it forwards', async () => {
    const via = (client: string) => ({ from: PROXY, headers: { 'x-forwarded-for': client } })
    for (let i = 0; i < PAIR_LIMIT; i++) expect((await login({ email: MEMBER.email, password: `wrong-${i}` }, via('198.51.100.8'))).status).toBe(401)
    expect((await login(MEMBER, via('198.51.100.8'))).status).toBe(429)
    expect((await login(MEMBER, via('198.51.100.9'))).status).toBe(200)
  })

  it('throttles an unknown email like a known one, so a lock tells nothing about who has an account', async () => {
    const nobody = { email: 'nobody@example.com', password: 'whatever' }
    for (let i = 0; i < PAIR_LIMIT; i++) expect((await login(nobody)).status).toBe(401)
    expect((await login(nobody)).status).toBe(429)
  })

  it('shows the locks to admins only, and an admin clears one', async () => {
    expect((await call('GET', '/api/auth/locks')).status).toBe(401)
    // The member is locked out from here: signed in from the other address.
    const memberCookie = (await login(MEMBER, { from: '127.0.0.2' })).cookie!
    expect((await call('GET', '/api/auth/locks', { cookie: memberCookie })).status).toBe(403)
    expect((await call('DELETE', `/api/auth/locks?email=${MEMBER.email}`, { cookie: memberCookie })).status).toBe(403)

    const admin = await signIn(ADMIN)
    const locks = signInLocksAnswerSchema.parse((await call('GET', '/api/auth/locks', { cookie: admin })).body).locks
    expect(locks).toEqual(expect.arrayContaining([
      expect.objectContaining({ scope: 'pair', email: MEMBER.email, address: '127.0.0.1', failures: PAIR_LIMIT }),
      expect.objectContaining({ scope: 'pair', email: MEMBER.email, address: '198.51.100.8' }),
      expect.objectContaining({ scope: 'pair', email: 'nobody@example.com', address: '127.0.0.1' }),
    ]))
    expect((await call('DELETE', '/api/auth/locks', { cookie: admin })).status).toBe(400)

    const cleared = await call('DELETE', `/api/auth/locks?email=${encodeURIComponent(MEMBER.email)}&address=127.0.0.1`, { cookie: admin })
    expect(cleared).toMatchObject({ status: 200, body: { cleared: 1 } })
    expect((await login(MEMBER)).status).toBe(200)
    // The other pair of that account stays locked until cleared too.
    expect((await login(MEMBER, { from: PROXY, headers: { 'x-forwarded-for': '198.51.100.8' } })).status).toBe(429)
  })
})
