/**
 * The GitHub client and release source against a loopback server that answers like the GitHub
 * REST API (tests/server/fake-github.ts): pagination, ETag/304, rate limits, 5xx, timeouts,
 * malformed JSON, asset redirects; then the release cache and the scheduled check on top.
 */
import { generateKeyPairSync } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createGitHubClient, GitHubError, GitHubRateLimitError, nextLink, rateLimitRetryAt, type GitHubClientOptions } from '../../shared/releases/github'
import { createGitHubReleaseSource, ReleaseNotFoundError } from '../../shared/releases/source'
import { readReleases, refreshReleases, runScheduledCheck } from '../../server/utils/releases'
import { openSqliteStore } from '../../server/utils/store/sqlite'
import type { SystemStore } from '../../server/utils/store/types'
import { checkTarget } from '../../shared/targets'
import { verifyRelease } from '../../shared/release-verify'
import { newestApplicable } from '../../shared/version'
import { signedAssets, startFakeGitHub, type FakeGitHub } from './fake-github'

const keys = generateKeyPairSync('ed25519')
const privateKey = keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
const publicKey = keys.publicKey.export({ type: 'spki', format: 'pem' }).toString()
const otherKey = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()

let gh: FakeGitHub
let dir: string

beforeEach(async () => {
  gh = await startFakeGitHub()
  dir = mkdtempSync(join(tmpdir(), 'owlat-github-'))
})

afterEach(async () => {
  await gh.close()
  rmSync(dir, { recursive: true, force: true })
})

function client(extra: Partial<GitHubClientOptions> = {}) {
  return createGitHubClient({ apiUrl: gh.apiUrl, repo: gh.repo, timeoutMs: 2000, ...extra })
}

function source(extra: Partial<GitHubClientOptions> = {}, key = publicKey) {
  return createGitHubReleaseSource({ client: client(extra), publicKey: () => key })
}

function addSigned(version: string, more: Partial<Parameters<typeof signedAssets>[0]> = {}, tag = `v${version}`) {
  return gh.add({ tag, prerelease: version.includes('-'), assets: signedAssets({ version, privateKey, ...more }) })
}

const listRequests = () => gh.requests.filter(r => r.origin === 'api' && r.path.startsWith(`/repos/${gh.repo}/releases?`))
const downloads = () => gh.requests.filter(r => r.origin === 'storage')

describe('GitHub client', () => {
  it('follows Link: rel="next" through every page, up to the bound', async () => {
    for (let i = 1; i <= 5; i++) gh.add({ tag: `v1.0.${i}` })
    const all = await client({ perPage: 2 }).listReleases(null)
    expect(all.notModified).toBe(false)
    if (all.notModified) return
    expect(all.releases.map(r => r.tag_name)).toEqual(['v1.0.5', 'v1.0.4', 'v1.0.3', 'v1.0.2', 'v1.0.1'])
    expect(all.truncated).toBe(false)
    expect(listRequests().map(r => new URL(r.path, gh.apiUrl).searchParams.get('page'))).toEqual([null, '2', '3'])

    const bounded = await client({ perPage: 2, maxPages: 2 }).listReleases(null)
    expect(bounded.notModified === false && bounded.releases.map(r => r.tag_name)).toEqual(['v1.0.5', 'v1.0.4', 'v1.0.3', 'v1.0.2'])
    expect(bounded.notModified === false && bounded.truncated).toBe(true)
  })

  it('parses Link headers', () => {
    expect(nextLink('<https://x/r?page=2>; rel="next", <https://x/r?page=9>; rel="last"')).toBe('https://x/r?page=2')
    expect(nextLink('<https://x/r?page=1>; rel="prev"')).toBeNull()
    expect(nextLink(null)).toBeNull()
  })

  it('asks conditionally with the ETag and takes a 304 as "nothing changed"', async () => {
    gh.add({ tag: 'v1.0.0' })
    const first = await client().listReleases(null)
    if (first.notModified) throw new Error('expected a full answer')
    expect(first.etag).toMatch(/^W\/"/)
    expect(await client().listReleases(first.etag)).toEqual({ notModified: true })
    expect(listRequests()[1]!.headers['if-none-match']).toBe(first.etag)
    expect(listRequests()[1]!.status).toBe(304)

    gh.add({ tag: 'v1.0.1' })
    const changed = await client().listReleases(first.etag)
    expect(changed.notModified === false && changed.releases).toHaveLength(2)
  })

  it('sends the token to the API only, and GitHub\'s headers', async () => {
    gh.add({ tag: 'v1.0.0', assets: signedAssets({ version: '1.0.0', privateKey }) })
    const c = client({ token: 'ghp_secret' })
    const list = await c.listReleases(null)
    if (list.notModified) throw new Error('expected a full answer')
    const asset = list.releases[0]!.assets.find(a => a.name === 'release-1.0.0.json')!
    const bytes = await c.downloadAsset(asset)
    expect(JSON.parse(bytes.toString('utf8'))).toMatchObject({ version: '1.0.0' })
    const api = gh.requests.filter(r => r.origin === 'api')
    expect(api.every(r => r.headers.authorization === 'Bearer ghp_secret')).toBe(true)
    expect(api[0]!.headers['user-agent']).toBe('owlat-updater')
    expect(api[0]!.headers['x-github-api-version']).toBe('2022-11-28')
    // With a token the API asset address is used (private repositories), then two redirects.
    expect(api.slice(1).map(r => r.status)).toEqual([302, 302])
    expect(api[1]!.path).toMatch(/\/releases\/assets\/\d+$/)
    expect(downloads()).toHaveLength(1)
    expect(downloads()[0]!.headers.authorization).toBeUndefined()
  })

  it('downloads public assets through the download address, redirects followed', async () => {
    gh.add({ tag: 'v1.0.0', assets: signedAssets({ version: '1.0.0', privateKey }) })
    const list = await client().listReleases(null)
    if (list.notModified) throw new Error('expected a full answer')
    const compose = list.releases[0]!.assets.find(a => a.name === 'docker-compose-1.0.0.yml')!
    expect((await client().downloadAsset(compose)).toString('utf8')).toContain('ghcr.io/owlat/web:1.0.0')
    expect(gh.requests.filter(r => r.origin === 'api')[1]!.path).toBe(`/${gh.repo}/releases/download/v1.0.0/docker-compose-1.0.0.yml`)
    expect(gh.requests.every(r => r.headers.authorization === undefined)).toBe(true)
  })

  it('refuses assets over the size limit, declared or actual, and endless redirects', async () => {
    gh.add({ tag: 'v1.0.0', assets: signedAssets({ version: '1.0.0', privateKey }) })
    const list = await client().listReleases(null)
    if (list.notModified) throw new Error('expected a full answer')
    const manifest = list.releases[0]!.assets.find(a => a.name === 'release-1.0.0.json')!
    await expect(client({ maxAssetBytes: 100 }).downloadAsset(manifest)).rejects.toThrow(/larger than 100 bytes/)
    const before = downloads().length
    // The listing claims a small size; the body is what counts.
    await expect(client({ maxAssetBytes: 100 }).downloadAsset({ ...manifest, size: 10 })).rejects.toThrow(/larger than 100 bytes/)
    expect(downloads().length).toBe(before + 1)
    await expect(client({ maxRedirects: 1 }).downloadAsset(manifest)).rejects.toThrow(/more than 1 redirects/)
  })

  it('reports a 403 with an exhausted rate limit with its reset time', async () => {
    const reset = Math.floor(Date.now() / 1000) + 1800
    gh.fail({ on: 'list', status: 403, headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(reset) }, body: '{"message":"API rate limit exceeded"}' })
    const err = await client().listReleases(null).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(GitHubRateLimitError)
    expect((err as GitHubRateLimitError).retryAt).toBe(reset * 1000)
  })

  it('reports a 429 with Retry-After, and a 403 without limit headers as a plain error', async () => {
    gh.fail({ on: 'list', status: 429, headers: { 'retry-after': '120' } })
    const before = Date.now()
    const err = await client().listReleases(null).catch((e: unknown) => e) as GitHubRateLimitError
    expect(err).toBeInstanceOf(GitHubRateLimitError)
    expect(err.retryAt).toBeGreaterThanOrEqual(before + 120_000)

    gh.fail({ on: 'list', status: 403, body: '{"message":"Resource not accessible"}' })
    const plain = await client().listReleases(null).catch((e: unknown) => e)
    expect(plain).toBeInstanceOf(GitHubError)
    expect(plain).not.toBeInstanceOf(GitHubRateLimitError)
    expect((plain as Error).message).toMatch(/HTTP 403: Resource not accessible/)
  })

  it('computes retry times from either header, never in the past', () => {
    const now = 1_000_000_000_000
    const h = (o: Record<string, string>) => new Headers(o)
    expect(rateLimitRetryAt(403, h({ 'retry-after': '30' }), now)).toBe(now + 30_000)
    expect(rateLimitRetryAt(403, h({ 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(now / 1000 - 5) }), now)).toBe(now + 1000)
    expect(rateLimitRetryAt(429, h({}), now)).toBe(now + 60_000)
    expect(rateLimitRetryAt(403, h({ 'x-ratelimit-remaining': '10' }), now)).toBeNull()
    expect(rateLimitRetryAt(500, h({ 'retry-after': '30' }), now)).toBeNull()
  })

  it('reports 5xx, a slow answer past the timeout, malformed JSON and an unexpected shape', async () => {
    gh.fail({ on: 'list', status: 502, body: '{"message":"Server Error"}' })
    await expect(client().listReleases(null)).rejects.toThrow(/HTTP 502/)
    gh.fail({ on: 'list', delayMs: 1500, body: '[]' })
    await expect(client({ timeoutMs: 300 }).listReleases(null)).rejects.toThrow(/no complete answer within 300 ms/)
    gh.fail({ on: 'list', body: '[{"id": 1, "tag_name": "v1.0.0"' })
    await expect(client().listReleases(null)).rejects.toThrow(/not valid JSON/)
    gh.fail({ on: 'list', body: '{"releases": []}' })
    await expect(client().listReleases(null)).rejects.toThrow(/unexpected answer shape/)
    gh.fail({ on: 'list', body: '[{"id": 1, "tag_name": 7}]' })
    await expect(client().listReleases(null)).rejects.toThrow(/unexpected answer shape \(0\./)
  })

  it('gets one release by tag, null when GitHub has none', async () => {
    gh.add({ tag: 'v1.0.0' })
    expect((await client().getReleaseByTag('v1.0.0'))?.tag_name).toBe('v1.0.0')
    expect(await client().getReleaseByTag('v9.9.9')).toBeNull()
  })
})

describe('GitHub release source', () => {
  it('lists only the product\'s vX.Y.Z[-pre] tags, never drafts, ordered by semver, verified', async () => {
    addSigned('1.9.0')
    addSigned('1.10.0')
    addSigned('1.2.0-beta.9')
    addSigned('1.2.0-beta.10')
    addSigned('1.2.0-rc.1')
    addSigned('1.2.0')
    for (const tag of ['server-v1.2.3', 'desktop-v2.0.0', 'v1.2', 'latest', 'v01.2.3', 'v1.2.3.4']) gh.add({ tag })
    gh.add({ tag: 'v9.9.9', draft: true, assets: signedAssets({ version: '9.9.9', privateKey }) })

    const { releases, etag } = await source().listReleases()
    expect(releases.map(r => r.version)).toEqual(['1.10.0', '1.9.0', '1.2.0', '1.2.0-rc.1', '1.2.0-beta.10', '1.2.0-beta.9'])
    expect(releases.every(r => r.verified)).toBe(true)
    expect(releases.find(r => r.version === '1.2.0-beta.10')?.channel).toBe('beta')
    expect(releases.map(r => r.version)).not.toContain('0.0.0')
    expect(etag).not.toBeNull()
    // Nothing of a tag that is not ours was downloaded.
    expect(downloads()).toHaveLength(6 * 3)
  })

  it('lists tampered or foreign-signed releases as unverified, never offered, and refused at install', async () => {
    addSigned('1.3.0')
    const tampered = addSigned('1.4.0')
    tampered.assets.find(a => a.name.endsWith('.yml'))!.content = Buffer.from('services: {}\n')
    addSigned('1.5.0', { privateKey: otherKey })
    gh.add({ tag: 'v1.6.0', body: 'no assets' })

    const { releases } = await source().listReleases()
    const by = (v: string) => releases.find(r => r.version === v)!
    expect(by('1.3.0').verified).toBe(true)
    expect(by('1.4.0')).toMatchObject({ verified: false, verifyError: expect.stringMatching(/compose file sha256 .* does not match/) })
    expect(by('1.5.0')).toMatchObject({ verified: false, verifyError: expect.stringMatching(/signature does not verify/) })
    expect(by('1.6.0')).toMatchObject({ verified: false, verifyError: expect.stringMatching(/release-1\.6\.0\.json.* missing/), notes: 'no assets' })

    expect(newestApplicable(releases.filter(r => r.verified), '1.2.0', 'stable')?.version).toBe('1.3.0')
    const check = checkTarget({ kind: 'update', targetVersion: '1.5.0', currentVersion: '1.2.0', channel: 'stable', releases })
    expect(check).toEqual({ ok: false, reason: expect.stringMatching(/^Release 1\.5\.0 failed verification and cannot be installed: .*signature/) })
  })

  it('renders hostile notes inert', async () => {
    addSigned('1.3.0', { notes: '<script>alert(1)</script>\n\n<img src=x onerror=alert(1)>\n\n[x](javascript:alert(1)) <iframe src="https://evil"></iframe>' })
    const [release] = (await source().listReleases()).releases
    expect(release!.notesHtml).not.toMatch(/<script|onerror|javascript:|<iframe|<img/i)
  })

  it('answers from the last check on a 304 and downloads only what changed', async () => {
    addSigned('1.3.0')
    addSigned('1.4.0')
    const src = source()
    const first = await src.listReleases()
    expect(downloads()).toHaveLength(6)

    const same = await src.listReleases(first)
    expect(same.releases).toEqual(first.releases)
    expect(listRequests().at(-1)!.status).toBe(304)
    expect(downloads()).toHaveLength(6)

    addSigned('1.5.0')
    const next = await src.listReleases(same)
    expect(next.releases.map(r => r.version)).toEqual(['1.5.0', '1.4.0', '1.3.0'])
    expect(downloads()).toHaveLength(9)

    // A new pinned key must verify everything again: no conditional request, all downloaded.
    const rotated = await source({}, createOtherPublicKey()).listReleases(next)
    expect(listRequests().at(-1)!.headers['if-none-match']).toBeUndefined()
    expect(rotated.releases.every(r => !r.verified)).toBe(true)
    expect(downloads()).toHaveLength(18)
  })

  it('keeps no ETag after a failed download, so the next check retries it', async () => {
    addSigned('1.3.0')
    gh.fail({ on: 'asset', status: 503 })
    const first = await source().listReleases()
    expect(first.releases[0]).toMatchObject({ verified: false, verifyError: expect.stringMatching(/could not download .*HTTP 503/) })
    expect(first.etag).toBeNull()
    expect(first.fingerprints['1.3.0']).toBeUndefined()
    const second = await source().listReleases(first)
    expect(second.releases[0]!.verified).toBe(true)
    expect(second.etag).not.toBeNull()
  })

  it('returns the exact artifacts of a release, which verify; unknown versions are not found', async () => {
    addSigned('1.3.0')
    const artifacts = await source().getArtifacts('1.3.0')
    expect(verifyRelease(artifacts, publicKey)).toMatchObject({ ok: true })
    await expect(source().getArtifacts('7.7.7')).rejects.toBeInstanceOf(ReleaseNotFoundError)
    gh.add({ tag: 'v8.0.0' })
    await expect(source().getArtifacts('8.0.0')).rejects.toThrow(/lacks release-8\.0\.0\.json/)
  })
})

function createOtherPublicKey(): string {
  return generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }).toString()
}

describe('release cache over GitHub', () => {
  let store: SystemStore

  beforeEach(() => {
    store = openSqliteStore(join(dir, 'web.sqlite'))
  })

  afterEach(async () => {
    await store.close()
  })

  it('keeps the cache on a rate limit, says when it asks again, and does not ask before then', async () => {
    addSigned('1.3.0')
    const src = source()
    await refreshReleases(store, src, 1_000)
    const reset = Math.floor(Date.now() / 1000) + 3600
    gh.fail({ on: 'list', status: 403, headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(reset) } })
    const limited = await refreshReleases(store, src, Date.now())
    expect(limited.releases.map(r => r.version)).toEqual(['1.3.0'])
    expect(limited.error).toMatch(new RegExp(`rate limit .*after ${new Date(reset * 1000).toISOString()}`))
    expect(limited.nextCheckAt).toBe(reset * 1000)

    const requestsBefore = gh.requests.length
    const again = await refreshReleases(store, src, reset * 1000 - 1)
    expect(gh.requests.length).toBe(requestsBefore)
    expect(again.error).toBe(limited.error)

    // Survives a restart: a new connection to the same file still waits.
    await store.close()
    store = openSqliteStore(join(dir, 'web.sqlite'))
    await refreshReleases(store, src, reset * 1000 - 1)
    expect(gh.requests.length).toBe(requestsBefore)

    const after = await refreshReleases(store, src, reset * 1000)
    expect(gh.requests.length).toBe(requestsBefore + 1)
    expect(after.error).toBeNull()
    expect(after.releases).toHaveLength(1)
  })

  it.each([
    ['a 500', { on: 'list', status: 500, body: '{"message":"boom"}' }, /HTTP 500/],
    ['malformed JSON', { on: 'list', body: '[{' }, /not valid JSON/],
    ['a slow answer', { on: 'list', delayMs: 1500, body: '[]' }, /no complete answer within/],
  ] as const)('keeps the last good cache and records the error after %s', async (_, fault, error) => {
    addSigned('1.3.0')
    const src = source({ timeoutMs: 400 })
    await refreshReleases(store, src, 1_000)
    gh.fail(fault)
    const failed = await refreshReleases(store, src, 2_000)
    expect(failed.releases.map(r => r.version)).toEqual(['1.3.0'])
    expect(failed.checkedAt).toBe(2_000)
    expect(failed.error).toMatch(error)
    // Not a rate limit: the next check may ask right away.
    expect((await store.getReleaseCheckState()).retryAt).toBeNull()
  })

  it('lists releases for a current version that is not semver, but offers none', async () => {
    addSigned('1.3.0')
    const { releases } = await refreshReleases(store, source())
    expect(releases).toHaveLength(1)
    expect(newestApplicable(releases, 'dev', 'stable')).toBeNull()
  })

  it('makes one GitHub request per interval between replicas sharing a store', async () => {
    addSigned('1.3.0')
    const replicas = [store, openSqliteStore(join(dir, 'web.sqlite')), openSqliteStore(join(dir, 'web.sqlite'))]
    const timing = { intervalMs: 6 * 3600_000, jitterMs: 0 }
    try {
      const t0 = 10_000_000
      const first = await Promise.all(replicas.map(s => runScheduledCheck(s, source(), timing, t0)))
      expect(first.filter(r => r !== null)).toHaveLength(1)
      expect(listRequests()).toHaveLength(1)

      // Everyone reads the cache another replica filled; nobody asks again within the interval.
      for (const s of replicas) expect((await readReleases(s, source(), timing, t0 + 1)).releases).toHaveLength(1)
      await Promise.all(replicas.map(s => runScheduledCheck(s, source(), timing, t0 + timing.intervalMs - 1)))
      expect(listRequests()).toHaveLength(1)

      const second = await Promise.all(replicas.map(s => runScheduledCheck(s, source(), timing, t0 + timing.intervalMs)))
      expect(second.filter(r => r !== null)).toHaveLength(1)
      expect(listRequests()).toHaveLength(2)
      expect(listRequests()[1]!.status).toBe(304)
    }
    finally {
      await Promise.all(replicas.slice(1).map(s => s.close()))
    }
  })

  it('adds the jitter on top of the interval, never less', async () => {
    addSigned('1.3.0')
    const timing = { intervalMs: 1000, jitterMs: 500, random: () => 0.999 }
    expect(await runScheduledCheck(store, source(), timing, 0)).not.toBeNull()
    expect((await store.getReleaseCheckState()).nextCheckAt).toBe(1499)
    expect(await runScheduledCheck(store, source(), timing, 1498)).toBeNull()
    expect(await runScheduledCheck(store, source(), timing, 1499)).not.toBeNull()
  })

  it('reads a never-checked cache by claiming the check, so a busy replica does not ask twice', async () => {
    addSigned('1.3.0')
    const timing = { intervalMs: 3600_000, jitterMs: 0 }
    const read = await readReleases(store, source(), timing, 5_000)
    expect(read.releases).toHaveLength(1)
    expect(read.nextCheckAt).toBe(3_605_000)
    expect(await runScheduledCheck(store, source(), timing, 6_000)).toBeNull()
    expect(listRequests()).toHaveLength(1)
  })
})
