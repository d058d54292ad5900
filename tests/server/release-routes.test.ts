/**
 * The release routes this issue added or changed, against the real stack (directory source):
 * the versions an update jumps over, and when the next check happens.
 */
import { appendFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { artifactNames } from '../../shared/release-artifacts'
import { statusSchema } from '../../shared/schemas/api'
import { pendingReleasesSchema, releasesResponseSchema } from '../../shared/schemas/release'
import { addRelease, ADMIN, MEMBER, startStack, WEB, type Stack } from './stack'

let stack: Stack
let admin: string
let member: string

async function login(email: string, password: string): Promise<string> {
  const res = await fetch(`${WEB}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password }) })
  expect(res.status).toBe(200)
  return res.headers.getSetCookie().map(c => c.split(';')[0]).join('; ')
}

async function call(method: string, path: string, cookie?: string, body?: unknown): Promise<{ status: number, body: unknown }> {
  const res = await fetch(`${WEB}${path}`, {
    method,
    headers: { accept: 'application/json', ...(cookie ? { cookie } : {}), ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  })
  return { status: res.status, body: await res.json() }
}

beforeAll(async () => {
  stack = await startStack()
  admin = await login(ADMIN.email, ADMIN.password)
  member = await login(MEMBER.email, MEMBER.password)
}, 240_000)

afterAll(async () => {
  await stack?.stop()
})

describe('GET /api/system/releases/pending', () => {
  it('is for platform admins only', async () => {
    expect((await call('GET', '/api/system/releases/pending')).status).toBe(401)
    expect((await call('GET', '/api/system/releases/pending', member)).status).toBe(403)
  })

  it('lists every release up to the newest one, newest first, on the instance\'s channel', async () => {
    const pending = pendingReleasesSchema.parse((await call('GET', '/api/system/releases/pending', admin)).body)
    expect(pending).toMatchObject({ currentVersion: '1.2.2', target: '1.3.0', migratesData: false })
    expect(pending.releases.map(r => r.version)).toEqual(['1.3.0', '1.2.3'])
    expect(pending.releases[0]!.notesHtml).toContain('<strong>New:</strong>')
  })

  it('flags releases that migrate data, and never targets an unverified one', async () => {
    addRelease(stack, '1.4.0', { publishedAt: '2026-12-01T10:00:00Z', migrations: { migratesData: true, rollbackFloor: '1.4.0' } })
    addRelease(stack, '1.5.0', { publishedAt: '2026-12-01T10:00:00Z', migrations: { migratesData: false, rollbackFloor: null } })
    appendFileSync(join(stack.releaseDir, artifactNames('1.5.0').compose), '\n# tampered\n')
    expect((await call('POST', '/api/system/releases/check', admin)).status).toBe(200)
    const pending = pendingReleasesSchema.parse((await call('GET', '/api/system/releases/pending', admin)).body)
    expect(pending.target).toBe('1.4.0')
    expect(pending.migratesData).toBe(true)
    expect(pending.releases.map(r => [r.version, r.migratesData])).toEqual([['1.4.0', true], ['1.3.0', false], ['1.2.3', false]])

    const refused = await call('POST', '/api/system/updates', admin, { targetVersion: '1.5.0' })
    expect(refused.status).toBe(400)
    expect((refused.body as { message: string }).message).toMatch(/1\.5\.0 failed verification and cannot be installed: compose file sha256/)
  })
})

describe('next check', () => {
  it('reports when the source will be asked next, one interval after the first check', async () => {
    const status = statusSchema.parse((await call('GET', '/api/system/status', admin)).body)
    const releases = releasesResponseSchema.parse((await call('GET', '/api/system/releases', admin)).body)
    expect(status.lastCheck.nextCheckAt).toEqual(releases.nextCheckAt)
    // The first read claimed the scheduled slot: 6 h (plus at most 30 min of jitter) later.
    const first = status.lastCheck.nextCheckAt!
    expect(first).toBeGreaterThan(Date.now() + 5 * 3600_000)
    expect(first).toBeLessThanOrEqual(Date.now() + 6.5 * 3600_000)
  })
})
