/**
 * `GET /api/system/backups` and `GET /api/system/backups/:file` against the real stack (the
 * sidecar subprocess supervising the built web, local driver): platform admins only, only archive
 * names pass, and the updater's answer comes through (the local driver keeps no backups, and says
 * why). The archives themselves are the compose driver's (tests/docker/compose-backups.test.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { backupListSchema } from '../../shared/schemas/backup'
import { ADMIN, MEMBER, startStack, WEB, type Stack } from './stack'

let stack: Stack
let admin: string
let member: string

async function login(email: string, password: string): Promise<string> {
  const res = await fetch(`${WEB}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password }) })
  expect(res.status).toBe(200)
  return res.headers.getSetCookie().map(c => c.split(';')[0]).join('; ')
}

async function get(path: string, cookie?: string): Promise<{ status: number, body: { message?: string } & Record<string, unknown> }> {
  const res = await fetch(`${WEB}${path}`, { headers: { accept: 'application/json', ...(cookie ? { cookie } : {}) } })
  return { status: res.status, body: await res.json() as { message?: string } & Record<string, unknown> }
}

beforeAll(async () => {
  stack = await startStack()
  admin = await login(ADMIN.email, ADMIN.password)
  member = await login(MEMBER.email, MEMBER.password)
}, 300_000)

afterAll(async () => {
  await stack?.stop()
})

describe('backup routes', () => {
  const paths = ['/api/system/backups', '/api/system/backups/owlat-20260101-030000.tar.gz']

  it('answer 401 signed out and 403 to a member', async () => {
    for (const path of paths) {
      expect((await get(path)).status, path).toBe(401)
      expect((await get(path, member)).status, path).toBe(403)
    }
  })

  it('list what the updater keeps, with why it cannot back up', async () => {
    const answer = await get('/api/system/backups', admin)
    expect(answer.status).toBe(200)
    expect(backupListSchema.parse(answer.body)).toMatchObject({ backups: [], supported: false, reason: expect.stringContaining('no data volumes') })
  })

  it('download only archive names, and only those the updater lists', async () => {
    for (const file of [encodeURIComponent('../instance-secret'), 'instance-secret', 'owlat-1.tar.gz']) {
      const answer = await get(`/api/system/backups/${file}`, admin)
      expect(answer.status, file).toBe(400)
      expect(answer.body.message).toContain('not a backup archive name')
    }
    const unknown = await get('/api/system/backups/owlat-20260101-030000.tar.gz', admin)
    expect(unknown.status).toBe(404)
    expect(unknown.body.message).toBe('No backup owlat-20260101-030000.tar.gz')
  })
})
