import { generateKeyPairSync } from 'node:crypto'
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { stringify } from 'yaml'
import { artifactNames, writeReleaseArtifacts } from '../../shared/release-artifacts'
import { INDEX_FILE, updateIndexIn } from '../../shared/release-index'
import { makeDemoInstance, runCli, stderrLines, type DemoInstance } from './helpers'

describe('owlat release verify', () => {
  let demo: DemoInstance
  let env: Record<string, string>
  const names = artifactNames('1.3.0')

  /** A copy of the demo releases to tamper with. */
  function copyReleases(): string {
    const dir = mkdtempSync(join(tmpdir(), 'owlat-tampered-'))
    cpSync(demo.releaseDir, dir, { recursive: true })
    return dir
  }

  function checkLine(stdout: string, name: string): string {
    return stdout.split('\n').find(line => line.slice(2).startsWith(`${name} `)) ?? `(no ${name} line)`
  }

  beforeAll(() => {
    demo = makeDemoInstance()
    // The pinned key is the demo key in the data dir.
    env = { OWLAT_DATA_DIR: demo.dataDir, OWLAT_DIR: demo.owlatDir }
  })

  it('verifies an untouched release, reporting each check', async () => {
    const result = await runCli(['release', 'verify', demo.releaseDir, '1.3.0'], env)
    expect(result.exitCode).toBe(0)
    expect(result.stderr).toBe('')
    for (const name of ['signature', 'index', 'manifest', 'manifest hash', 'sha256 file', 'policy']) {
      expect(checkLine(result.stdout, name)).toMatch(/^✔ /)
    }
    expect(result.stdout).toMatch(/release 1\.3\.0 verified$/)
  })

  it('fails a tampered compose file on both hashes', async () => {
    const dir = copyReleases()
    const compose = join(dir, names.compose)
    writeFileSync(compose, readFileSync(compose, 'utf8').replace('ghcr.io/owlat/web:1.3.0', 'ghcr.io/owlat/web:6.6.6'))
    const result = await runCli(['release', 'verify', dir, '1.3.0'], env)
    expect(result.exitCode).toBe(1)
    expect(checkLine(result.stdout, 'signature')).toMatch(/^✔ /)
    expect(checkLine(result.stdout, 'manifest hash')).toMatch(/^✖ /)
    expect(checkLine(result.stdout, 'sha256 file')).toMatch(/^✖ /)
    expect(stderrLines(result)).toEqual(['owlat: release 1.3.0 failed 2 check(s): manifest hash, sha256 file; do not install it'])
  })

  it('fails a tampered manifest on its signature', async () => {
    const dir = copyReleases()
    const manifest = join(dir, names.manifest)
    writeFileSync(manifest, readFileSync(manifest, 'utf8').replace('"normal"', '"security"'))
    const result = await runCli(['release', 'verify', dir, '1.3.0'], env)
    expect(result.exitCode).toBe(1)
    expect(checkLine(result.stdout, 'signature')).toMatch(/^✖ /)
    // The index lists the manifest as signed: the edited one is not it.
    expect(checkLine(result.stdout, 'index')).toMatch(/^✖ index +the manifest of 1\.3\.0 .* is not the one the signed release index lists/)
    expect(stderrLines(result)).toEqual([expect.stringMatching(/^owlat: release 1\.3\.0 failed 2 check\(s\): signature, index;/)])
  })

  it('fails against another pinned key (OWLAT_RELEASE_PUBLIC_KEY)', async () => {
    const other = generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }).toString()
    const result = await runCli(['release', 'verify', demo.releaseDir, '1.3.0'], { ...env, OWLAT_RELEASE_PUBLIC_KEY: other })
    expect(result.exitCode).toBe(1)
    expect(checkLine(result.stdout, 'signature')).toMatch(/^✖ /)
  })

  it('fails a signed release whose compose file breaks the policy', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'owlat-signed-bad-'))
    writeReleaseArtifacts({
      dir,
      compose: stringify({ services: { web: { image: 'ghcr.io/owlat/web:2.0.0', privileged: true } } }),
      privateKey: readFileSync(join(demo.dataDir, 'keys', 'release-signing.pem'), 'utf8'),
      manifest: {
        version: '2.0.0',
        channel: 'stable',
        publishedAt: '2026-12-01T10:00:00Z',
        severity: 'normal',
        images: [{ service: 'web', image: 'ghcr.io/owlat/web:2.0.0' }],
        migrations: { migratesData: false, rollbackFloor: null },
        notes: 'privileged',
      },
    })
    const result = await runCli(['release', 'verify', dir, '2.0.0'], env)
    expect(result.exitCode).toBe(1)
    expect(checkLine(result.stdout, 'signature')).toMatch(/^✔ /)
    expect(checkLine(result.stdout, 'policy')).toMatch(/^✖ policy +service web: privileged mode/)
  })

  it('fails a release the signed index revokes, an index past its expiry, and a folder without an index', async () => {
    const privateKey = readFileSync(join(demo.dataDir, 'keys', 'release-signing.pem'), 'utf8')
    const revoked = copyReleases()
    updateIndexIn(revoked, { revoke: [{ version: '1.3.0', reason: 'breaks DKIM signing', moveTo: '1.2.3' }] }, privateKey)
    let result = await runCli(['release', 'verify', revoked, '1.3.0'], env)
    expect(result.exitCode).toBe(1)
    expect(checkLine(result.stdout, 'index')).toMatch(/^✖ index +release 1\.3\.0 is revoked: breaks DKIM signing$/)

    const stale = copyReleases()
    updateIndexIn(stale, { now: Date.now() - 20 * 24 * 60 * 60_000 }, privateKey)
    result = await runCli(['release', 'verify', stale, '1.3.0'], env)
    expect(result.exitCode).toBe(1)
    expect(checkLine(result.stdout, 'index')).toMatch(/^✖ index +release information is stale since /)

    const none = copyReleases()
    rmSync(join(none, INDEX_FILE))
    result = await runCli(['release', 'verify', none, '1.3.0'], env)
    expect(stderrLines(result)).toEqual(['owlat: release 1.3.0 failed 1 check(s): index; do not install it'])
  })

  it('names the missing artifacts of an incomplete release', async () => {
    const dir = copyReleases()
    rmSync(join(dir, names.signature))
    const result = await runCli(['release', 'verify', dir, '1.3.0'], env)
    expect(result.exitCode).toBe(1)
    expect(stderrLines(result)).toEqual([`owlat: release 1.3.0 is incomplete in ${dir}: missing ${names.signature}`])
  })

  it('refuses a version that is not semver before reading anything', async () => {
    const result = await runCli(['release', 'verify', demo.releaseDir, 'v1.3'], env)
    expect(result.exitCode).toBe(2)
    expect(stderrLines(result)).toEqual(['owlat: VERSION: must be a semantic version such as 1.3.0'])
  })
})
