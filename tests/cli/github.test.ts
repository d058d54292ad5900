/**
 * `owlat` with `OWLAT_RELEASE_SOURCE=github`: the CLI reads releases through the same source as
 * the web (here the loopback fake GitHub), and drives a real updater process with them.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { demoCompose } from '../../scripts/bootstrap'
import { freePort } from '../setup/ports'
import { signedAssets, startFakeGitHub, type FakeGitHub } from '../server/fake-github'
import { makeDemoInstance, runCli, startUpdater, type DemoInstance, type UpdaterProcess } from './helpers'

describe('owlat with releases from GitHub', () => {
  let gh: FakeGitHub
  let demo: DemoInstance
  let updater: UpdaterProcess
  let env: Record<string, string>

  beforeAll(async () => {
    gh = await startFakeGitHub()
    demo = makeDemoInstance()
    env = {
      OWLAT_DATA_DIR: demo.dataDir,
      OWLAT_DIR: demo.owlatDir,
      PORT: String(await freePort()),
      OWLAT_UPDATER_PORT: String(await freePort()),
    }
    updater = await startUpdater(env, demo.secret)
    const privateKey = readFileSync(join(demo.dataDir, 'keys', 'release-signing.pem'), 'utf8')
    for (const version of ['1.2.2', '1.3.0']) {
      gh.add({ tag: `v${version}`, assets: signedAssets({ version, privateKey, compose: demoCompose({ version }) }) })
    }
    // Not the product's tag: never a candidate.
    gh.add({ tag: 'server-v9.0.0' })
    gh.publishIndex(privateKey)
  })

  afterAll(async () => {
    await updater?.stop()
    await gh?.close()
  })

  const github = () => ({ ...env, OWLAT_RELEASE_SOURCE: 'github', OWLAT_GITHUB_REPO: gh.repo, OWLAT_GITHUB_API_URL: gh.apiUrl })

  it('doctor verifies the newest release on GitHub', async () => {
    const result = await runCli(['doctor'], github())
    expect(result.stdout).toMatch(new RegExp(`^✔ ok +releases +2 release\\(s\\) \\(GitHub releases of ${gh.repo}\\); the newest, 1\\.3\\.0, verifies$`, 'm'))
  })

  it('upgrade --yes installs the newest release from GitHub\'s assets', async () => {
    const result = await runCli(['upgrade', '--yes'], github())
    expect(result.exitCode, result.stdout + result.stderr + updater.output()).toBe(0)
    expect(result.stdout).toMatch(/^Update: 1\.2\.2 → 1\.3\.0 \(stable, published 2026-11-01\)$/m)
    expect(result.stdout).toMatch(/Owlat now runs 1\.3\.0/)
    expect(gh.requests.some(r => r.path === `/repos/${gh.repo}/releases/tags/v1.3.0`)).toBe(true)
    expect(gh.requests.filter(r => r.origin === 'storage').length).toBeGreaterThanOrEqual(3)
  })

  it('upgrade then says it is up to date, naming where it looked', async () => {
    const result = await runCli(['upgrade', '--yes'], github())
    expect(result.exitCode).toBe(0)
    expect(result.stdout).toContain(`Owlat 1.3.0 is up to date (GitHub releases of ${gh.repo})`)
  })
})
