/**
 * `npm start`'s launcher, started twice on one data dir (issue 13, defect 10): the first start
 * prints the generated admin password once; the second names the admin's email and the command
 * that recovers a lost password, and never prints a password.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { execa } from 'execa'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freePort } from '../setup/ports'
import { cleanEnv, ensureWebBuild, ROOT } from './stack'

/** Runs the launcher until its box is printed (the web answers), then stops it; its whole output. */
async function startOnce(dataDir: string, env: Record<string, string> = {}): Promise<string> {
  // Without vitest's markers: consola prints only warnings in a test environment (std-env's isTest).
  const { TEST: _test, VITEST: _vitest, NODE_ENV: _nodeEnv, ...outside } = cleanEnv()
  const child = execa(process.execPath, ['--import', 'tsx', 'scripts/start.ts'], {
    cwd: ROOT,
    env: { ...outside, OWLAT_DATA_DIR: dataDir, PORT: String(await freePort()), OWLAT_UPDATER_PORT: String(await freePort()), ...env },
    extendEnv: false,
    reject: false,
    all: true,
    timeout: 150_000,
  })
  let output = ''
  await new Promise<void>((resolve) => {
    child.all!.on('data', (chunk: Buffer) => {
      output += chunk.toString()
      if (output.includes('Stop: Ctrl-C')) resolve()
    })
    void child.finally(() => resolve())
  })
  child.kill('SIGTERM')
  await child
  return output
}

describe('the launcher on a second start', () => {
  let dataDir: string

  beforeAll(() => {
    ensureWebBuild()
    dataDir = mkdtempSync(join(tmpdir(), 'owlat-launcher-'))
  }, 300_000)

  afterAll(() => {
    rmSync(dataDir, { recursive: true, force: true })
  })

  it('prints the first admin\'s password once, then names the admin and how to reset a lost password', { timeout: 320_000 }, async () => {
    const first = await startOnce(dataDir, { OWLAT_ADMIN_EMAIL: 'owner@example.test' })
    const password = /First admin \(shown once\): owner@example\.test \/ (\S+)/.exec(first)?.[1]
    expect(password, first).toBeTruthy()

    const second = await startOnce(dataDir)
    expect(second, second).toContain('Sign in as owner@example.test.')
    expect(second).toContain('Lost the password? npm run owlat -- admin reset-password owner@example.test')
    expect(second).not.toContain(password!)
    expect(second).not.toContain('shown once')
  })
})
