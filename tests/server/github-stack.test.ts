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

  it('takes no offline bundle: those need the directory source, and the page is told so', async () => {
    const refusal = 'offline bundles need the directory release source (OWLAT_RELEASE_SOURCE=directory)'
    const status = statusSchema.parse((await call('GET', '/api/system/status')).body)
    expect(status.bundleUpload).toEqual({ maxBytes: 8 * 1024 ** 3, refusal })
    const res = await fetch(`${WEB}/api/system/bundles`, { method: 'POST', headers: { 'cookie': admin, 'content-type': 'application/octet-stream', 'accept': 'application/json' }, body: new Uint8Array(4096) })
    expect(res.status).toBe(409)
    expect(await res.json()).toMatchObject({ message: refusal })
  })

  it('updates to 1.3.0 with the artifacts downloaded from the release\'s assets', async () => {
    const before = gh.requests.length
    const accepted = await call('POST', '/api/system/updates', { targetVersion: '1.3.0' })
    expect(accepted.status).toBe(202)
    const fetched = gh.requests.slice(before)
    expect(fetched.some(r => r.path === `/repos/${gh.repo}/releases/tags/v1.3.0`)).toBe(true)
    // The target's manifest, signature and compose file once (the plan reuses the download), and the
    // running version's three for the plan's compose diff and image changes.
    expect(fetched.filter(r => r.origin === 'storage')).toHaveLength(6)
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

/**
 * GitHub serving each attack on the signed release index in turn, after the update to 1.3.0:
 * each is refused or flagged, and nothing is installed (the version stays, no run is opened).
 */
describe('release index attacks served by GitHub', () => {
  let privateKey: string
  let replacementId = 900_000

  /** Swaps one asset for another file, as re-uploading it on GitHub would (a new asset id). */
  function replaceAsset(tag: string, name: string, content: Buffer): void {
    const release = gh.releases.find(r => r.tag === tag)!
    release.assets = release.assets.map(a => (a.name === name ? { ...a, id: replacementId++, content, updatedAt: new Date().toISOString() } : a))
  }

  async function nothingInstalled(runsBefore: number): Promise<void> {
    expect((await call('GET', '/api/system/version')).body).toMatchObject({ version: '1.3.0' })
    const history = (await call('GET', '/api/system/history')).body as { runs: unknown[] }
    expect(history.runs).toHaveLength(runsBefore)
  }

  const runCount = async () => ((await call('GET', '/api/system/history')).body as { runs: unknown[] }).runs.length
  const check = async () => releasesResponseSchema.parse((await call('POST', '/api/system/releases/check')).body)
  const status = async () => statusSchema.parse((await call('GET', '/api/system/status')).body)

  beforeAll(async () => {
    privateKey = readFileSync(join(stack.dataDir, 'keys', 'release-signing.pem'), 'utf8')
    gh.add({ tag: 'v1.3.1', assets: signedAssets({ version: '1.3.1', privateKey, compose: demoCompose({ version: '1.3.1' }) }) })
  })

  it('rollback: a replayed index with a lower serial is refused and shown as a security warning', async () => {
    const older = gh.publishIndex(privateKey)
    const newer = gh.publishIndex(privateKey)
    expect((await check()).releases.find(r => r.version === '1.3.1')?.verified).toBe(true)
    gh.serveIndex(older)
    const replayed = await check()
    expect(replayed.error).toMatch(new RegExp(`release index refused: .*serial ${older.index.serial}, lower than ${newer.index.serial} already seen.*rollback attack`))
    // Judged by the newer index still: 1.3.1 stays offered.
    expect(replayed.releases.find(r => r.version === '1.3.1')?.verified).toBe(true)
    expect((await status()).releaseIndex?.rollbackRefusal).toMatchObject({ serial: older.index.serial, highestSerial: newer.index.serial, where: `GitHub releases of ${gh.repo}` })
    gh.publishIndex(privateKey)
  })

  it('mix-and-match: another release\'s compose file, or a manifest the index does not list, is refused; nothing installed', async () => {
    const runs = await runCount()
    const genuine = gh.releases.find(r => r.tag === 'v1.3.1')!.assets.map(a => ({ ...a }))
    replaceAsset('v1.3.1', 'docker-compose-1.3.1.yml', Buffer.from(demoCompose({ version: '1.2.2' })))
    expect((await check()).releases.find(r => r.version === '1.3.1')?.verifyError).toMatch(/compose file sha256 .* does not match the manifest/)
    const mixed = await call('POST', '/api/system/updates', { targetVersion: '1.3.1' })
    expect(mixed.status).toBe(400)
    expect((mixed.body as { message: string }).message).toMatch(/compose file sha256/)
    await nothingInstalled(runs)

    // A validly signed 1.3.1 manifest (another build) the publication never listed.
    gh.releases.find(r => r.tag === 'v1.3.1')!.assets = genuine
    const other = signedAssets({ version: '1.3.1', privateKey, compose: demoCompose({ version: '1.3.1' }), notes: 'another build' })
    for (const name of ['release-1.3.1.json', 'release-1.3.1.json.sig']) replaceAsset('v1.3.1', name, other.find(a => a.name === name)!.content)
    expect((await check()).releases.find(r => r.version === '1.3.1')?.verifyError).toMatch(/the manifest of 1\.3\.1 .* is not the one the signed release index lists/)
    const unlisted = await call('POST', '/api/system/updates', { targetVersion: '1.3.1' })
    expect(unlisted.status).toBe(400)
    expect((unlisted.body as { message: string }).message).toMatch(/not the one the signed release index lists/)
    await nothingInstalled(runs)
    gh.releases.find(r => r.tag === 'v1.3.1')!.assets = genuine
    gh.publishIndex(privateKey)
  })

  it('freeze: an index past its expiry shows "stale" and no update starts; nothing installed', async () => {
    const runs = await runCount()
    gh.publishIndex(privateKey, { now: Date.now() - 20 * 24 * 60 * 60_000 })
    expect((await check()).releases.find(r => r.version === '1.3.1')?.verified).toBe(true)
    expect((await status()).releaseIndex).toMatchObject({ stale: true })
    const frozen = await call('POST', '/api/system/updates', { targetVersion: '1.3.1' })
    expect(frozen.status).toBe(409)
    // The plan's blocking check: only an admin's override with a reason would let it through.
    expect((frozen.body as { message: string }).message).toMatch(/Failing checks stop this update: .*release-index-fresh: release information is stale since /)
    expect((frozen.body as { data: { checks: { id: string, status: string, ignorable: boolean }[] } }).data.checks)
      .toContainEqual(expect.objectContaining({ id: 'release-index-fresh', status: 'fail', ignorable: true }))
    await nothingInstalled(runs)
    gh.publishIndex(privateKey)
    await check()
    expect((await status()).releaseIndex).toMatchObject({ stale: false })
  })

  it('revocation: the running version revoked shows why and what to move to; a revoked release is never offered', async () => {
    gh.publishIndex(privateKey, { revoke: [{ version: '1.3.0', reason: 'Loses queued mail on restart.', moveTo: '1.3.1' }] })
    const listed = await check()
    expect(listed.releases.find(r => r.version === '1.3.0')).toMatchObject({ verified: false, verifyError: 'release 1.3.0 is revoked: Loses queued mail on restart.' })
    expect((await status()).releaseIndex?.revokedRunning).toEqual({ version: '1.3.0', reason: 'Loses queued mail on restart.', moveTo: '1.3.1' })
  })
})
