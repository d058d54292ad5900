/**
 * A sign-in lock ends by itself, against the real stack. The lock time is configured short
 * (OWLAT_SIGNIN_LOCK_MS) and the test polls for the end rather than timing it.
 */
import { afterAll, beforeAll, expect, it } from 'vitest'
import { MEMBER, startStack, waitFor, WEB, type Stack } from './stack'

const LOCK_MS = 5_000
let stack: Stack

function login(password: string): Promise<Response> {
  return fetch(`${WEB}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'accept': 'application/json' },
    body: JSON.stringify({ email: MEMBER.email, password }),
  })
}

beforeAll(async () => {
  stack = await startStack({ env: { OWLAT_SIGNIN_MAX_FAILURES: '2', OWLAT_SIGNIN_LOCK_MS: String(LOCK_MS) } })
}, 300_000)

afterAll(async () => {
  await stack?.stop()
})

it('lets the account in again once the lock time has passed, with no one clearing it', async () => {
  expect((await login('wrong-1')).status).toBe(401)
  expect((await login('wrong-2')).status).toBe(401)
  const locked = await login(MEMBER.password)
  expect(locked.status).toBe(429)
  expect(Number(locked.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
  expect(Number(locked.headers.get('retry-after'))).toBeLessThanOrEqual(LOCK_MS / 1000)
  // Attempts refused while locked do not extend the lock: polling with the right password gets in.
  const statuses = new Set<number>()
  await waitFor('the lock to end', async () => {
    const res = await login(MEMBER.password)
    statuses.add(res.status)
    return res.status === 200 ? true : undefined
  }, 60_000)
  expect([...statuses].every(s => s === 429 || s === 200)).toBe(true)
})
