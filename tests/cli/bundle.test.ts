/**
 * `owlat bundle import FILE` against a real updater (its own process, local driver): a bundle made
 * by `release:bundle` is verified by the updater, kept in the CLI's release folder and installed
 * by `owlat upgrade` with no release source but that folder; a tampered one is refused with the
 * reason and leaves nothing. The compose driver's images are in tests/docker/bundles.test.ts.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { demoCompose } from '../../scripts/bootstrap'
import { buildReleaseBundle } from '../../scripts/release-bundle'
import { artifactNames, writeReleaseArtifacts } from '../../shared/release-artifacts'
import { INDEX_FILE, INDEX_SIGNATURE_FILE } from '../../shared/release-index'
import { freePort } from '../setup/ports'
import { makeDemoInstance, runCli, startUpdater, stderrLines, type DemoInstance, type UpdaterProcess } from './helpers'

const WEB_PORT = await freePort()
const UPDATER_PORT = await freePort()

describe('owlat bundle import', () => {
  let demo: DemoInstance
  let env: Record<string, string>
  let updater: UpdaterProcess
  let bundle: string
  const out = mkdtempSync(join(tmpdir(), 'owlat-cli-bundle-'))

  beforeAll(async () => {
    demo = makeDemoInstance()
    env = { OWLAT_DATA_DIR: demo.dataDir, OWLAT_DIR: demo.owlatDir, PORT: String(WEB_PORT), OWLAT_UPDATER_PORT: String(UPDATER_PORT) }
    updater = await startUpdater(env, demo.secret)
    // The publisher's folder: the demo publication, then 1.3.5 published on top of it.
    const publisher = join(out, 'publisher')
    mkdirSync(publisher)
    for (const name of [INDEX_FILE, INDEX_SIGNATURE_FILE]) copyFileSync(join(demo.releaseDir, name), join(publisher, name))
    writeReleaseArtifacts({
      dir: publisher,
      compose: demoCompose({ version: '1.3.5' }),
      privateKey: readFileSync(join(demo.dataDir, 'keys', 'release-signing.pem'), 'utf8'),
      manifest: { version: '1.3.5', channel: 'stable', publishedAt: '2026-11-30T10:00:00Z', severity: 'normal', images: [], migrations: { migratesData: false, rollbackFloor: null }, notes: '## 1.3.5\n' },
    })
    bundle = (await buildReleaseBundle(['1.3.5', '--from', publisher, '--key', join(demo.dataDir, 'keys', 'release-signing.pem'), '--out', out, '--no-images'])).file
  })

  afterAll(async () => {
    await updater?.stop()
  })

  it('refuses a tampered bundle in one line with the updater\'s reason, and keeps nothing', async () => {
    const bytes = readFileSync(bundle)
    const at = Math.floor(bytes.length / 3)
    bytes[at] = bytes[at]! ^ 0x20
    const tampered = join(out, 'tampered.tar')
    writeFileSync(tampered, bytes)
    const result = await runCli(['bundle', 'import', tampered], env)
    expect(result.exitCode).toBe(1)
    expect(stderrLines(result)).toEqual(['owlat: the updater answered 400 to POST /v1/bundles: bundle refused, nothing was kept: the bundle\'s signature does not verify against any trusted release key: it was changed after it was made, or made with another key'])
    expect(existsSync(join(demo.releaseDir, artifactNames('1.3.5').manifest))).toBe(false)
  })

  it('refuses a missing file, and a release source it could not offer the release from, before sending anything', async () => {
    const missing = await runCli(['bundle', 'import', join(out, 'nope.tar')], env)
    expect(missing.exitCode).toBe(1)
    expect(stderrLines(missing)).toEqual([`owlat: no such file: ${join(out, 'nope.tar')}`])
    const github = await runCli(['bundle', 'import', bundle], { ...env, OWLAT_RELEASE_SOURCE: 'github', OWLAT_GITHUB_REPO: 'owlat/owlat' })
    expect(github.exitCode).toBe(1)
    expect(stderrLines(github)).toEqual(['owlat: offline bundles need the directory release source: set OWLAT_RELEASE_SOURCE=directory (and OWLAT_RELEASE_DIR); it is github'])
  })

  it('imports the bundle into the release folder, and owlat upgrade installs it with nothing else to read', async () => {
    const imported = await runCli(['bundle', 'import', bundle], env)
    expect(imported.exitCode, imported.stderr).toBe(0)
    expect(imported.stdout).toContain(`✔ release 1.3.5 verified and kept in ${demo.releaseDir}`)
    expect(existsSync(join(demo.releaseDir, artifactNames('1.3.5').manifest))).toBe(true)
    const upgraded = await runCli(['upgrade', '--version', '1.3.5', '--yes'], env)
    expect(upgraded.exitCode, upgraded.stderr).toBe(0)
    const status = await runCli(['status', '--json'], env)
    expect(JSON.parse(status.stdout)).toMatchObject({ version: '1.3.5' })
  })
})
