/**
 * Offline release bundles through the real sidecar on the local driver (a driver that runs no
 * images, so its bundles carry none; tests/docker/bundles.test.ts loads images into the engine):
 * made by `release:bundle`, imported over `POST /v1/bundles`, kept in a release folder, then
 * installed like any release. A byte changed anywhere, a foreign key, an oversized upload: each
 * refused with the reason, and nothing kept.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { generateKeyPairSync, type KeyObject } from 'node:crypto'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildReleaseBundle } from '../../scripts/release-bundle'
import { demoCompose } from '../../scripts/bootstrap'
import { loadConfig } from '../../shared/config'
import { bundleReleaseFiles, keepBundledRelease, writeReleaseBundle } from '../../shared/node/release-bundle'
import { artifactNames } from '../../shared/release-artifacts'
import { createDirectoryReleaseSource } from '../../shared/releases/source'
import { SidecarRejectedError } from '../../shared/sidecar-client'
import { startSidecar, type SidecarHandle } from '../../sidecar/index'
import { Journal } from '../../sidecar/journal'
import { freePort } from '../setup/ports'
import { eventually, FAKE_WEB, instanceSecret, jobRequest, makeDataDir, sidecarEnv, SidecarClient, testConfig, webVersion, writeCustomRelease } from './helpers'

const UPDATER_PORT = await freePort()
const LIMIT = 2 * 1024 * 1024

describe('offline release bundles (local driver)', () => {
  let dataDir: string
  let secret: string
  let sidecar: SidecarHandle
  let client: SidecarClient
  let bundle: string
  const out = mkdtempSync(join(tmpdir(), 'owlat-bundles-'))
  const keyFile = () => join(dataDir, 'keys', 'release-signing.pem')
  const archived = (version: string) => existsSync(join(dataDir, 'updater', 'releases', artifactNames(version).manifest))
  const refusal = (err: unknown) => (err instanceof SidecarRejectedError ? { status: err.status, reason: err.detail } : err)

  beforeAll(async () => {
    dataDir = makeDataDir()
    secret = instanceSecret(dataDir)
    // A small limit, so the oversized upload below stays small too.
    sidecar = await startSidecar(loadConfig({ ...sidecarEnv(dataDir, UPDATER_PORT), OWLAT_BUNDLE_MAX_BYTES: String(LIMIT) }), { webEntry: FAKE_WEB, log: () => {} })
    client = new SidecarClient(sidecar.url, secret)
    await eventually(async () => await webVersion(secret) === '1.2.2', 'web up')
    const dir = writeCustomRelease(dataDir, '1.3.5', demoCompose({ version: '1.3.5' }))
    bundle = (await buildReleaseBundle(['1.3.5', '--from', dir, '--key', keyFile(), '--out', out, '--no-images'])).file
  })

  afterAll(async () => {
    await sidecar?.close()
  })

  it('refuses a bundle with one byte changed anywhere, with the reason, and keeps nothing', async () => {
    const size = statSync(bundle).size
    // The signature itself, a tar header, the release's manifest inside, the zero blocks at the end.
    for (const at of [520, 1024 + 100, Math.floor(size / 2), size - 10]) {
      const bytes = readFileSync(bundle)
      bytes[at] = bytes[at]! ^ 0x01
      const tampered = join(out, `tampered-${at}.tar`)
      writeFileSync(tampered, bytes)
      const err = await client.importBundle(tampered).catch(refusal)
      expect(err, `byte ${at}`).toMatchObject({ status: 400, reason: expect.stringMatching(/^bundle refused, nothing was kept: the (bundle's signature does not verify|file is not a release bundle)/) })
    }
    expect(archived('1.3.5')).toBe(false)
    expect(readdirOrEmpty(join(dataDir, 'updater', 'bundles'))).toEqual([])
  })

  it('refuses a bundle signed by a key it does not trust, and what is no bundle at all', async () => {
    const stranger = generateKeyPairSync('ed25519').privateKey
    const dir = join(dataDir, 'custom-releases')
    // release:bundle will not sign with a key the release does not verify with; a forger would.
    await expect(buildReleaseBundle(['1.3.5', '--from', dir, '--key', keyFile(), '--out', out, '--no-images'].map(a => (a === keyFile() ? writeKey(stranger) : a)))).rejects.toThrow(/does not verify with this key/)
    const forged = join(out, 'forged.tar')
    await writeReleaseBundle(forged, { version: '1.3.5', files: bundleReleaseFiles('1.3.5').map(name => ({ name, path: join(dir, name) })), images: [], privateKey: stranger })
    expect(await client.importBundle(forged).catch(refusal)).toMatchObject({ status: 400, reason: expect.stringContaining('the bundle\'s signature does not verify against any trusted release key') })
    const junk = join(out, 'junk.tar')
    writeFileSync(junk, Buffer.alloc(4096, 7))
    expect(await client.importBundle(junk).catch(refusal)).toMatchObject({ status: 400, reason: 'bundle refused, nothing was kept: the file is not a release bundle: it does not start with a bundle signature' })
    expect(archived('1.3.5')).toBe(false)
  })

  it('refuses an upload past the size limit (OWLAT_BUNDLE_MAX_BYTES)', async () => {
    const big = join(out, 'big.tar')
    writeFileSync(big, Buffer.alloc(LIMIT + 1))
    expect(await client.importBundle(big).catch(refusal)).toMatchObject({ status: 413, reason: `the upload is larger than the limit of ${LIMIT} bytes (OWLAT_BUNDLE_MAX_BYTES)` })
    expect(readdirOrEmpty(join(dataDir, 'updater', 'bundles'))).toEqual([])
  })

  it('imports a bundle made by release:bundle, keeps its release, and installs it like any other', async () => {
    const imported = await client.importBundle(bundle)
    expect(imported).toMatchObject({ version: '1.3.5', images: [], indexExpired: false })
    expect(archived('1.3.5')).toBe(true)
    // The updater's ratchet moved to the bundle's index.
    const journal = new Journal(join(dataDir, 'updater', 'journal.sqlite'))
    expect(journal.releaseTrust().indexText).toBe(imported.files['releases-index.json'])
    journal.close()

    const folder = join(out, 'web-releases')
    keepBundledRelease(folder, imported)
    const listed = await createDirectoryReleaseSource({ dir: folder, publicKey: () => testConfig(dataDir, 1).releasePublicKey() }).listReleases()
    expect(listed.releases.find(r => r.version === '1.3.5')).toMatchObject({ verified: true })
    const accepted = await client.createJob(jobRequest(dataDir, '1.3.5', {}, folder))
    const job = await client.waitForJob(accepted.jobId)
    expect(job).toMatchObject({ toVersion: '1.3.5', status: 'succeeded' })
    expect(await webVersion(secret)).toBe('1.3.5')
  })

  it('keeps a newer index the folder already holds, and refuses files no release carries', () => {
    const folder = join(out, 'newer')
    const imported = { version: '1.3.5', files: Object.fromEntries(['release-1.3.5.json', 'release-1.3.5.json.sig', 'docker-compose-1.3.5.yml', 'docker-compose-1.3.5.yml.sha256', 'releases-index.json', 'releases-index.json.sig'].map(n => [n, n === 'releases-index.json' ? '{"serial":1}' : 'x'])) }
    keepBundledRelease(folder, imported)
    writeFileSync(join(folder, 'releases-index.json'), '{"serial":9}')
    expect(keepBundledRelease(folder, imported)).not.toContain('releases-index.json')
    expect(readFileSync(join(folder, 'releases-index.json'), 'utf8')).toBe('{"serial":9}')
    expect(() => keepBundledRelease(folder, { ...imported, files: { ...imported.files, '../escape': 'x' } })).toThrow(/other files than a release's/)
    expect(existsSync(join(folder, '../escape'))).toBe(false)
  })
})

function writeKey(key: KeyObject): string {
  const path = join(mkdtempSync(join(tmpdir(), 'owlat-key-')), 'key.pem')
  writeFileSync(path, key.export({ type: 'pkcs8', format: 'pem' }))
  return path
}

function readdirOrEmpty(dir: string): string[] {
  try {
    return readdirSync(dir)
  }
  catch {
    return []
  }
}
