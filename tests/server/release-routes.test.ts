/**
 * The release routes this issue added or changed, against the real stack (directory source):
 * the versions an update jumps over, and when the next check happens; what the page is offered
 * when a release breaks the compose policy or a release folder holds odd files; state-changing
 * requests behind a proxy (OWLAT_ORIGIN).
 */
import { appendFileSync, copyFileSync, readFileSync, truncateSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { artifactNames, writeReleaseArtifacts } from '../../shared/release-artifacts'
import { statusSchema } from '../../shared/schemas/api'
import { pendingReleasesSchema, releasesResponseSchema } from '../../shared/schemas/release'
import { addRelease, ADMIN, MEMBER, startStack, WEB, withoutDemoRelease, type Stack } from './stack'

/** Where browsers reach this stack in these tests: a proxy's address, not the web's own. */
const PROXY_ORIGIN = 'https://owlat.example.com'

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
  // These cases read 1.3.0 as the newest release: the demo's required stop 1.3.1 is plan-routes.test.ts's.
  stack = await startStack({ env: { OWLAT_ORIGIN: PROXY_ORIGIN }, prepare: withoutDemoRelease('1.3.1') })
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

describe('what the page is offered', () => {
  const releases = async () => releasesResponseSchema.parse((await call('POST', '/api/system/releases/check', admin)).body).releases

  it('lists a signed release that breaks the compose policy as refused, with the violations, and never installs it', async () => {
    const compose = readFileSync(join(stack.releaseDir, artifactNames('1.2.2').compose), 'utf8').replaceAll('1.2.2', '1.6.0')
      .replace('services:\n', 'services:\n  docker-socket-proxy:\n    image: tecnativa/docker-socket-proxy:0.3\n    volumes: [/var/run/docker.sock:/var/run/docker.sock]\n')
      .replace('  web:\n', '  web:\n    volumes_from: [docker-socket-proxy]\n')
    writeReleaseArtifacts({
      dir: stack.releaseDir,
      compose,
      privateKey: readFileSync(join(stack.dataDir, 'keys', 'release-signing.pem'), 'utf8'),
      manifest: { version: '1.6.0', channel: 'stable', publishedAt: '2026-12-02T10:00:00Z', severity: 'security', images: [], migrations: { migratesData: false, rollbackFloor: null }, notes: 'Signed, but mounts the Docker socket.' },
    })
    const violation = 'compose file violates the compose policy: service web: volumes_from docker-socket-proxy: bind mount mounts the Docker socket /var/run/docker.sock; only the "docker-socket-proxy" service may (it gives root on the host)'
    expect((await releases()).find(r => r.version === '1.6.0')).toMatchObject({ verified: false, verifyError: violation })
    const status = statusSchema.parse((await call('GET', '/api/system/status', admin)).body)
    expect(status.latest?.version).toBe('1.4.0')
    const refused = await call('POST', '/api/system/updates', admin, { targetVersion: '1.6.0' })
    expect(refused.status).toBe(400)
    expect((refused.body as { message: string }).message).toBe(`Release 1.6.0 failed verification and cannot be installed: ${violation}`)
  })

  it('offers a release whose manifest names the beta channel only on beta', async () => {
    addRelease(stack, '1.4.1', { channel: 'beta', publishedAt: '2026-12-03T10:00:00Z' })
    expect((await releases()).find(r => r.version === '1.4.1')).toMatchObject({ channel: 'beta', verified: true })
    expect(statusSchema.parse((await call('GET', '/api/system/status', admin)).body).latest?.version).toBe('1.4.0')
    expect(pendingReleasesSchema.parse((await call('GET', '/api/system/releases/pending', admin)).body).releases.map(r => r.version)).not.toContain('1.4.1')
    const refused = await call('POST', '/api/system/updates', admin, { targetVersion: '1.4.1' })
    expect(refused.status).toBe(400)
    expect((refused.body as { message: string }).message).toBe('1.4.1 is published on the beta channel; switch the update channel to beta to install it')
  })

  it('ignores a manifest copied under another version\'s name and a manifest too large to be one', async () => {
    const real = artifactNames('1.2.2')
    const copy = artifactNames('1.9.9')
    for (const key of ['manifest', 'signature', 'compose'] as const) copyFileSync(join(stack.releaseDir, real[key]), join(stack.releaseDir, copy[key]))
    const huge = join(stack.releaseDir, artifactNames('2.0.0').manifest)
    writeFileSync(huge, '')
    truncateSync(huge, 300 * 1024 * 1024)
    const listed = await releases()
    expect(listed.map(r => r.version)).not.toContain('1.9.9')
    expect(listed.map(r => r.version)).not.toContain('2.0.0')
    expect(listed.filter(r => r.version === '1.2.2')).toEqual([expect.objectContaining({ verified: true })])
  })
})

describe('state-changing requests behind a proxy (OWLAT_ORIGIN)', () => {
  const post = (origin: string) => fetch(`${WEB}/api/system/notifications/dismiss`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'cookie': admin, origin, 'sec-fetch-site': 'same-origin' },
    body: JSON.stringify({ version: '1.4.0' }),
  })

  it('accepts the page served from the configured origin, and refuses the web\'s own address', async () => {
    expect((await post(PROXY_ORIGIN)).status).toBe(200)
    const refused = await post(WEB)
    expect(refused.status).toBe(403)
    expect(((await refused.json()) as { message: string }).message).toMatch(/is not this app's origin \(set OWLAT_ORIGIN/)
  })
})
