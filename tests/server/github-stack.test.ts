/**
 * The built web with `OWLAT_RELEASE_SOURCE=github`, against the loopback fake GitHub: releases are
 * listed from GitHub, an unverified one is refused, and an update downloads its artifacts from the
 * release's assets and runs to the end.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { demoCompose } from '../../scripts/bootstrap'
import { runSchema, statusSchema } from '../../shared/schemas/api'
import { releasesResponseSchema } from '../../shared/schemas/release'
import { isActiveStatus } from '../../shared/run-state'
import { signedAssets, startFakeGitHub, type FakeGitHub } from './fake-github'
import { ADMIN, startStack, waitFor, WEB, type Stack } from './stack'

let gh: FakeGitHub
let stack: Stack
let admin: string

async function call(method: string, path: string, body?: unknown): Promise<{ status: number, body: unknown }> {
  const res = await fetch(`${WEB}${path}`, {
    method,
    headers: { accept: 'application/json', cookie: admin, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  })
  return { status: res.status, body: await res.json() }
}

beforeAll(async () => {
  gh = await startFakeGitHub()
  stack = await startStack({ env: { OWLAT_RELEASE_SOURCE: 'github', OWLAT_GITHUB_REPO: gh.repo, OWLAT_GITHUB_API_URL: gh.apiUrl } })
  const res = await fetch(`${WEB}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ADMIN) })
  admin = res.headers.getSetCookie().map(c => c.split(';')[0]).join('; ')
  // Signed with the stack's demo key, which the web pins.
  const privateKey = readFileSync(join(stack.dataDir, 'keys', 'release-signing.pem'), 'utf8')
  for (const version of ['1.2.2', '1.3.0']) {
    gh.add({ tag: `v${version}`, assets: signedAssets({ version, privateKey, compose: demoCompose({ version }) }) })
  }
  gh.add({ tag: 'server-v9.0.0' })
  const tampered = gh.add({ tag: 'v1.4.0', assets: signedAssets({ version: '1.4.0', privateKey, compose: demoCompose({ version: '1.4.0' }) }) })
  tampered.assets.find(a => a.name === 'docker-compose-1.4.0.yml')!.content = Buffer.from(demoCompose({ version: '1.4.1' }))
  gh.publishIndex(privateKey)
}, 240_000)

afterAll(async () => {
  await stack?.stop()
  await gh?.close()
})

describe('the github release source in the web', () => {
  it('lists the product\'s releases from GitHub and offers the newest verified one', async () => {
    const checked = releasesResponseSchema.parse((await call('POST', '/api/system/releases/check')).body)
    expect(checked.error).toBeNull()
    expect(checked.releases.map(r => [r.version, r.verified])).toEqual([['1.4.0', false], ['1.3.0', true], ['1.2.2', true]])
    const status = statusSchema.parse((await call('GET', '/api/system/status')).body)
    expect(status.latest?.version).toBe('1.3.0')
  })

  it('answers Check now from a 304 when nothing changed', async () => {
    const before = gh.requests.length
    const again = releasesResponseSchema.parse((await call('POST', '/api/system/releases/check')).body)
    expect(again.releases).toHaveLength(3)
    expect(gh.requests.slice(before).map(r => r.status)).toEqual([304])
  })

  it('refuses the unverified release with the reason', async () => {
    const refused = await call('POST', '/api/system/updates', { targetVersion: '1.4.0' })
    expect(refused.status).toBe(400)
    expect((refused.body as { message: string }).message).toMatch(/1\.4\.0 failed verification .*compose file sha256/)
  })

  it('updates to 1.3.0 with the artifacts downloaded from the release\'s assets', async () => {
    const before = gh.requests.length
    const accepted = await call('POST', '/api/system/updates', { targetVersion: '1.3.0' })
    expect(accepted.status).toBe(202)
    const fetched = gh.requests.slice(before)
    expect(fetched.some(r => r.path === `/repos/${gh.repo}/releases/tags/v1.3.0`)).toBe(true)
    expect(fetched.filter(r => r.origin === 'storage')).toHaveLength(3)
    const runId = (accepted.body as { runId: string }).runId
    const run = await waitFor('the update to end', async () => {
      const answer = await call('GET', `/api/system/updates/${runId}`)
      if (answer.status !== 200) return undefined
      const r = runSchema.parse(answer.body)
      return isActiveStatus(r.status) ? undefined : r
    }, 120_000)
    expect(run.status).toBe('succeeded')
  })
})
