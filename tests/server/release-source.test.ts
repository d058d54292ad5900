import { appendFileSync, copyFileSync, mkdtempSync, readFileSync, rmSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { bootstrapDataDir, demoCompose, DEMO_RELEASES } from '../../scripts/bootstrap'
import { artifactNames } from '../../shared/release-artifacts'
import { verifyRelease } from '../../shared/release-verify'
import { createDirectoryReleaseSource, MAX_MANIFEST_BYTES, ReleaseNotFoundError, type ReleaseSource } from '../../shared/releases/source'
import { checkTarget } from '../../shared/targets'
import { sortVersionsDesc } from '../../shared/version'
import { writeCustomRelease } from '../sidecar/helpers'
import { readIndexState, readReleases, refreshReleases } from '../../server/utils/releases'
import { checkReleaseIndexFresh } from '../../shared/node/checks/release-index'
import { INDEX_FILE, INDEX_SIGNATURE_FILE, readIndexFile, updateIndexIn, writeSignedIndex } from '../../shared/release-index'
import { openSqliteStore } from '../../server/utils/store/sqlite'
import type { SystemStore } from '../../server/utils/store/types'

/** The demo releases, newest first, as a listing has them. */
const DEMO_VERSIONS = sortVersionsDesc(DEMO_RELEASES, r => r.version).map(r => r.version)

let dir: string
let releaseDir: string
let publicKey: string
let source: ReleaseSource

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'owlat-releases-'))
  releaseDir = bootstrapDataDir(dir).releaseDir
  publicKey = readFileSync(join(dir, 'keys', 'release-signing.pub.pem'), 'utf8')
  source = createDirectoryReleaseSource({ dir: releaseDir, publicKey: () => publicKey })
})

afterEach(() => {
  rmSync(dir, { recursive: true, force: true })
})

describe('directory release source', () => {
  it('lists the signed demo releases newest first, verified, with rendered notes', async () => {
    const { releases } = await source.listReleases()
    expect(releases.map(r => r.version)).toEqual(DEMO_VERSIONS)
    expect(releases.every(r => r.verified && r.verifyError === null)).toBe(true)
    const r130 = releases.find(r => r.version === '1.3.0')!
    expect(r130).toMatchObject({ channel: 'stable', severity: 'normal', migratesData: false })
    expect(r130.notesHtml).toContain('<strong>New:</strong>')
    expect(releases.find(r => r.version === '1.4.0-beta.1')?.channel).toBe('beta')
  })

  it('lists a release whose compose file was edited as unverified, with the reason', async () => {
    appendFileSync(join(releaseDir, artifactNames('1.3.0').compose), '\n# tampered\n')
    const r130 = (await source.listReleases()).releases.find(r => r.version === '1.3.0')!
    expect(r130.verified).toBe(false)
    expect(r130.verifyError).toMatch(/compose file sha256 .* does not match the manifest/)
  })

  it('lists a release signed by another key as unverified', async () => {
    const other = mkdtempSync(join(tmpdir(), 'owlat-otherkey-'))
    try {
      bootstrapDataDir(other)
      const foreignKey = readFileSync(join(other, 'keys', 'release-signing.pub.pem'), 'utf8')
      const foreign = createDirectoryReleaseSource({ dir: releaseDir, publicKey: () => foreignKey })
      const { releases } = await foreign.listReleases()
      expect(releases).toHaveLength(DEMO_RELEASES.length)
      expect(releases.every(r => !r.verified && /signature does not verify/.test(r.verifyError ?? ''))).toBe(true)
    }
    finally {
      rmSync(other, { recursive: true, force: true })
    }
  })

  it('lists a release with a missing signature as unverified and skips unreadable manifests', async () => {
    unlinkSync(join(releaseDir, artifactNames('1.2.3').signature))
    writeFileSync(join(releaseDir, 'release-9.9.9.json'), '{ not json')
    const { releases } = await source.listReleases()
    expect(releases.map(r => r.version)).not.toContain('9.9.9')
    const r123 = releases.find(r => r.version === '1.2.3')!
    expect(r123.verified).toBe(false)
    expect(r123.verifyError).toMatch(/release-1\.2\.3\.json\.sig is missing/)
  })

  it('lists a signature with trailing characters as unverified (one signature, one spelling)', async () => {
    const sig = join(releaseDir, artifactNames('1.3.0').signature)
    writeFileSync(sig, `${readFileSync(sig, 'utf8').trim()}zz\n`)
    const r130 = (await source.listReleases()).releases.find(r => r.version === '1.3.0')!
    expect(r130).toMatchObject({ verified: false, verifyError: 'release manifest signature does not verify against the pinned release key' })
  })

  it('ignores a manifest copied under another version\'s name: the real one stays listed, verified, and a rollback target', async () => {
    const names = artifactNames('1.2.2')
    const copy = artifactNames('1.9.9')
    for (const key of ['manifest', 'signature', 'compose'] as const) copyFileSync(join(releaseDir, names[key]), join(releaseDir, copy[key]))
    const { releases } = await source.listReleases()
    expect(releases.map(r => r.version)).toEqual(DEMO_VERSIONS)
    expect(releases.find(r => r.version === '1.2.2')).toMatchObject({ verified: true, verifyError: null })
    expect(checkTarget({ kind: 'rollback', targetVersion: '1.2.2', currentVersion: '1.3.0', channel: 'stable', releases, runs: [] }).ok).toBe(true)
  })

  it('skips a manifest larger than a manifest can be, without reading it', async () => {
    const huge = join(releaseDir, 'release-2.0.0.json')
    // 300 MB, sparse: it costs nothing to make, and would cost seconds to read.
    writeFileSync(huge, '')
    truncateSync(huge, 300 * 1024 * 1024)
    const { releases } = await source.listReleases()
    expect(releases.map(r => r.version)).toEqual(DEMO_VERSIONS)
    copyFileSync(join(releaseDir, artifactNames('1.3.0').manifest), join(releaseDir, artifactNames('2.0.0').manifest))
    appendFileSync(join(releaseDir, artifactNames('2.0.0').manifest), ' '.repeat(MAX_MANIFEST_BYTES))
    expect((await source.listReleases()).releases.map(r => r.version)).not.toContain('2.0.0')
  })

  it('lists a signed release whose compose file the compose policy refuses as refused, with the violations', async () => {
    const compose = demoCompose({ version: '1.3.1' }).replace('  web:\n', '  web:\n    volumes_from: [docker-socket-proxy]\n')
      .replace('services:\n', 'services:\n  docker-socket-proxy:\n    image: tecnativa/docker-socket-proxy:0.3\n    volumes: [/var/run/docker.sock:/var/run/docker.sock]\n')
    const customDir = writeCustomRelease(dir, '1.3.1', compose)
    const policed = createDirectoryReleaseSource({ dir: customDir, publicKey: () => publicKey, policy: { projectDir: '/opt/owlat' } })
    const r131 = (await policed.listReleases()).releases.find(r => r.version === '1.3.1')!
    expect(r131.verified).toBe(false)
    expect(r131.verifyError).toBe('compose file violates the compose policy: service web: volumes_from docker-socket-proxy: bind mount mounts the Docker socket /var/run/docker.sock; only the "docker-socket-proxy" service may (it gives root on the host)')
    // Without a policy (the updater's own archive) the same release verifies.
    expect((await createDirectoryReleaseSource({ dir: customDir, publicKey: () => publicKey }).listReleases()).releases.find(r => r.version === '1.3.1')?.verified).toBe(true)
  })

  it('fails the whole listing when the folder or the key is missing', async () => {
    await expect(createDirectoryReleaseSource({ dir: join(dir, 'nope'), publicKey: () => publicKey }).listReleases()).rejects.toThrow(/does not exist/)
    const noKey = () => {
      throw new Error('no release public key')
    }
    await expect(createDirectoryReleaseSource({ dir: releaseDir, publicKey: noKey }).listReleases()).rejects.toThrow(/no release public key/)
  })

  it('returns the exact artifacts of a release, which verify', async () => {
    const artifacts = await source.getArtifacts('1.3.0')
    expect(Buffer.from(artifacts.manifestBytes).equals(readFileSync(join(releaseDir, artifactNames('1.3.0').manifest)))).toBe(true)
    expect(verifyRelease(artifacts, publicKey)).toMatchObject({ ok: true })
    await expect(source.getArtifacts('7.7.7')).rejects.toBeInstanceOf(ReleaseNotFoundError)
  })
})

describe('release cache', () => {
  let store: SystemStore

  beforeEach(() => {
    store = openSqliteStore(join(dir, 'web.sqlite'))
  })

  afterEach(async () => {
    await store.close()
  })

  it('asks the source when the cache is empty, then serves the cache', async () => {
    const first = await readReleases(store, source)
    expect(first.releases).toHaveLength(DEMO_RELEASES.length)
    expect(first.checkedAt).toEqual(expect.any(Number))
    unlinkSync(join(releaseDir, artifactNames('1.3.0').manifest))
    expect((await readReleases(store, source)).releases).toHaveLength(DEMO_RELEASES.length)
    expect((await refreshReleases(store, source)).releases).toHaveLength(DEMO_RELEASES.length - 1)
  })

  it('keeps the last good list and records the error when a check fails', async () => {
    await refreshReleases(store, source, 1000)
    rmSync(releaseDir, { recursive: true, force: true })
    const failed = await refreshReleases(store, source, 2000)
    expect(failed.releases).toHaveLength(DEMO_RELEASES.length)
    expect(failed.checkedAt).toBe(2000)
    expect(failed.error).toMatch(/release check failed: .*does not exist/)
    const { nextCheckAt: _, ...cache } = failed
    expect(await store.getReleaseCache()).toEqual(cache)
  })
})

/**
 * The directory source serving each attack in turn, through the release cache as the web reads it:
 * each is refused or flagged, and what would be installed is judged by the newest good index.
 */
describe('release index attacks through the directory source', () => {
  let store: SystemStore
  let privateKey: string
  const indexFiles = () => [INDEX_FILE, INDEX_SIGNATURE_FILE].map(name => readFileSync(join(releaseDir, name)))
  const restoreIndex = ([index, signature]: Buffer[]) => {
    writeFileSync(join(releaseDir, INDEX_FILE), index!)
    writeFileSync(join(releaseDir, INDEX_SIGNATURE_FILE), signature!)
  }
  const verdicts = (releases: { version: string, verified: boolean, verifyError: string | null }[]) =>
    Object.fromEntries(releases.map(r => [r.version, r.verified ? 'ok' : r.verifyError]))

  beforeEach(() => {
    store = openSqliteStore(join(dir, 'web.sqlite'))
    privateKey = readFileSync(join(dir, 'keys', 'release-signing.pem'), 'utf8')
  })

  afterEach(async () => {
    await store.close()
  })

  it('offers only what the signed index lists: without one, nothing', async () => {
    const first = await refreshReleases(store, source)
    expect(first.error).toBeNull()
    expect(first.releases.every(r => r.verified)).toBe(true)
    unlinkSync(join(releaseDir, INDEX_SIGNATURE_FILE))
    const fresh = openSqliteStore(join(dir, 'other.sqlite'))
    try {
      const none = await refreshReleases(fresh, source)
      expect(none.error).toMatch(/release index refused: release folder .* serves no signed release index/)
      expect(none.releases.some(r => r.verified)).toBe(false)
    }
    finally {
      await fresh.close()
    }
  })

  it('freeze: an index past its expiry is flagged stale and blocks updates', async () => {
    const old = Date.now() - 20 * 24 * 60 * 60_000
    updateIndexIn(releaseDir, { now: old }, privateKey)
    const listed = await refreshReleases(store, source)
    expect(listed.error).toBeNull()
    const state = await readIndexState(store, source)
    expect(state.expired).toBe(true)
    expect(checkReleaseIndexFresh(state)).toMatchObject({ status: 'fail', blocking: true, message: expect.stringMatching(/^release information is stale since /) })
    // A fresh publication lifts it.
    updateIndexIn(releaseDir, {}, privateKey)
    await refreshReleases(store, source)
    expect(checkReleaseIndexFresh(await readIndexState(store, source)).status).toBe('ok')
  })

  it('rollback: an index with a lower serial is refused, recorded, and the newer one stays in force', async () => {
    const older = indexFiles()
    updateIndexIn(releaseDir, { revoke: [{ version: '1.2.3', reason: 'drops queued mail', moveTo: '1.3.0' }] }, privateKey)
    const newer = await refreshReleases(store, source)
    expect(verdicts(newer.releases)['1.2.3']).toBe('release 1.2.3 is revoked: drops queued mail')
    const serial = (await store.getReleaseTrust()).highestSerial!
    restoreIndex(older)
    const replayed = await refreshReleases(store, source, Date.now())
    expect(replayed.error).toMatch(new RegExp(`release index refused: .*serial ${serial - 1}, lower than ${serial} already seen.*rollback attack`))
    // The revocation the replay would undo still holds.
    expect(verdicts(replayed.releases)['1.2.3']).toBe('release 1.2.3 is revoked: drops queued mail')
    expect((await store.getReleaseTrust()).rollbackRefusal).toMatchObject({ serial: serial - 1, highestSerial: serial, where: `release folder ${releaseDir}` })
  })

  it('mix-and-match: another validly signed manifest, or another release\'s compose file, is refused', async () => {
    await refreshReleases(store, source)
    // A second, validly signed 1.3.0 manifest the publication never listed (an earlier build, say).
    const forged = writeCustomRelease(dir, '1.3.0', demoCompose({ version: '1.3.0' }))
    for (const name of [artifactNames('1.3.0').manifest, artifactNames('1.3.0').signature]) copyFileSync(join(forged, name), join(releaseDir, name))
    copyFileSync(join(releaseDir, artifactNames('1.2.2').compose), join(releaseDir, artifactNames('1.2.3').compose))
    const judged = verdicts((await refreshReleases(store, source)).releases)
    expect(judged['1.3.0']).toMatch(/the manifest of 1\.3\.0 \(sha256 [a-f0-9]{64}\) is not the one the signed release index lists/)
    expect(judged['1.2.3']).toMatch(/compose file sha256 .* does not match the manifest/)
    expect(judged['1.2.2']).toBe('ok')
  })

  it('refuses a release the index omits', async () => {
    const index = readIndexFile(releaseDir)!
    writeSignedIndex(releaseDir, { ...index, serial: index.serial + 1, releases: index.releases.filter(r => r.version !== '1.2.3') }, privateKey)
    const judged = verdicts((await refreshReleases(store, source)).releases)
    expect(judged['1.2.3']).toBe(`release 1.2.3 is not in the signed release index (serial ${index.serial + 1})`)
    expect(judged['1.3.0']).toBe('ok')
  })
})
