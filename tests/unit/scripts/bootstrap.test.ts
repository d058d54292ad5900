import { mkdtempSync, readFileSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { loadConfig } from '../../../shared/config'
import { parseDemoFault } from '../../../shared/demo-fault'
import { artifactNames } from '../../../shared/release-artifacts'
import { verifyRelease } from '../../../shared/release-verify'
import { bootstrapDataDir, DEMO_INSTALLED_VERSION, DEMO_RELEASES } from '../../../scripts/bootstrap'
import { createDirectoryReleaseSource } from '../../../shared/releases/source'
import { computeUpgradePath } from '../../../shared/upgrade-path'

function readRelease(dir: string, version: string) {
  const names = artifactNames(version)
  return {
    manifestBytes: readFileSync(join(dir, names.manifest)),
    signature: readFileSync(join(dir, names.signature), 'utf8'),
    compose: readFileSync(join(dir, names.compose), 'utf8'),
    expectedVersion: version,
  }
}

describe('bootstrapDataDir', () => {
  it('makes demo releases that verify against the demo key', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'owlat-boot-'))
    const result = bootstrapDataDir(dataDir)
    expect(result.firstStart).toBe(true)
    const key = loadConfig({ OWLAT_DATA_DIR: dataDir }).releasePublicKey()
    for (const release of DEMO_RELEASES) {
      const verified = verifyRelease(readRelease(result.releaseDir, release.version), key)
      expect(verified.ok, release.version).toBe(true)
    }
    expect(DEMO_RELEASES.map(r => r.version)).toEqual(['1.2.2', '1.2.3', '1.3.0', '1.3.1', '1.4.0-beta.1', '1.4.0-beta.2'])
  })

  it('signs 1.3.1 as a required upgrade stop over 1.3.0, so 1.2.2 goes through 1.3.0', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'owlat-boot-'))
    const { releaseDir } = bootstrapDataDir(dataDir)
    const key = loadConfig({ OWLAT_DATA_DIR: dataDir }).releasePublicKey()
    const verified = verifyRelease(readRelease(releaseDir, '1.3.1'), key)
    expect(verified.ok && verified.manifest).toMatchObject({ channel: 'stable', minimumFrom: '1.3.0' })
    const { releases } = await createDirectoryReleaseSource({ dir: releaseDir, publicKey: () => key }).listReleases()
    // Only 1.3.1 declares a stop.
    expect(releases.filter(r => r.minimumFrom).map(r => r.version)).toEqual(['1.3.1'])
    const stable = releases.filter(r => r.channel === 'stable')
    expect(computeUpgradePath(DEMO_INSTALLED_VERSION, '1.3.1', stable)).toEqual(['1.3.0', '1.3.1'])
  })

  it('installs 1.2.2, makes the first beta web unhealthy and the second fall over after 15 s', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'owlat-boot-'))
    const { releaseDir } = bootstrapDataDir(dataDir)
    const stack = parse(readFileSync(join(dataDir, 'stack', 'docker-compose.yml'), 'utf8'))
    expect(stack.services.web.image).toMatch(/^ghcr\.io\/owlat\/web:1\.2\.2@sha256:[a-f0-9]{64}$/)
    const beta = parse(readRelease(releaseDir, '1.4.0-beta.1').compose)
    expect(beta.services.web.environment.OWLAT_DEMO_FAULT).toBe('unhealthy')
    const late = parse(readRelease(releaseDir, '1.4.0-beta.2').compose)
    expect(late.services.web.environment.OWLAT_DEMO_FAULT).toBe('unhealthy-after:15000')
    expect(parseDemoFault(late.services.web.environment.OWLAT_DEMO_FAULT)).toEqual({ unhealthyAfterMs: 15_000 })
    // Every other demo release is healthy.
    for (const version of ['1.2.2', '1.2.3', '1.3.0']) {
      expect(parse(readRelease(releaseDir, version).compose).services.web.environment.OWLAT_DEMO_FAULT, version).toBeUndefined()
    }
  })

  it('reuses everything on a second start and keeps secrets private', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'owlat-boot-'))
    bootstrapDataDir(dataDir)
    const secret = readFileSync(join(dataDir, 'instance-secret'), 'utf8')
    const key = readFileSync(join(dataDir, 'keys', 'release-signing.pem'), 'utf8')
    const again = bootstrapDataDir(dataDir)
    expect(again.firstStart).toBe(false)
    expect(readFileSync(join(dataDir, 'instance-secret'), 'utf8')).toBe(secret)
    expect(readFileSync(join(dataDir, 'keys', 'release-signing.pem'), 'utf8')).toBe(key)
    expect(statSync(join(dataDir, 'instance-secret')).mode & 0o077).toBe(0)
  })

  it('makes no demo key or releases when the operator pins their own', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'owlat-boot-'))
    bootstrapDataDir(dataDir, { demo: false })
    expect(() => loadConfig({ OWLAT_DATA_DIR: dataDir }).releasePublicKey()).toThrow('no release public key')
  })
})
