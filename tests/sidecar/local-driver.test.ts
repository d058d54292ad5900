/** The local driver's steps on a real web child, including the idempotence resumes rely on. */
import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { demoCompose } from '../../scripts/bootstrap'
import { readCompose } from '../../sidecar/compose-file'
import { LocalDriver, stackPaths } from '../../sidecar/drivers/local'
import { isAlive } from '../../sidecar/drivers/processes'
import type { StepContext } from '../../sidecar/drivers/types'
import { freePort } from '../setup/ports'
import { FAKE_WEB, instanceSecret, makeDataDir, testConfig, WEB_PORT, webVersion } from './helpers'

function context(overrides: Partial<StepContext> = {}): StepContext & { lines: string[], skipped: string | null } {
  const ctx = {
    jobId: 'job-1',
    kind: 'update' as const,
    fromVersion: '1.2.2',
    toVersion: '1.3.0',
    hop: 0,
    compose: demoCompose({ version: '1.3.0' }),
    force: false,
    backup: true,
    restoreBackupJobId: null as string | null,
    restoreArchive: null as string | null,
    recordBackup: () => {},
    signal: new AbortController().signal,
    lines: [] as string[],
    skipped: null as string | null,
    log: (line: string) => ctx.lines.push(line),
    skip: (reason: string) => {
      ctx.skipped = reason
    },
    ...overrides,
  }
  return ctx
}

describe('LocalDriver', () => {
  let dataDir: string
  let driver: LocalDriver
  let paths: ReturnType<typeof stackPaths>
  const bystander = spawn('sleep', ['60'], { stdio: 'ignore' })
  const driverLog: string[] = []

  beforeAll(async () => {
    dataDir = makeDataDir()
    paths = stackPaths(dataDir)
    // A stale pid file whose pid now belongs to an unrelated process: it must survive start().
    mkdirSync(join(dataDir, 'updater'))
    writeFileSync(join(dataDir, 'updater', 'web.pid'), `${bystander.pid}\n`)
    driver = new LocalDriver(testConfig(dataDir, await freePort()), { webEntry: FAKE_WEB, log: line => driverLog.push(line) })
    await driver.start()
  })

  afterAll(async () => {
    await driver?.stop()
    bystander.kill()
  })

  it('starts the web at the installed version without touching an unrelated pid', async () => {
    expect(isAlive(bystander.pid!)).toBe(true)
    expect(driver.installedVersion()).toBe('1.2.2')
    await expect.poll(() => webVersion(instanceSecret(dataDir)).catch(() => null)).toBe('1.2.2')
    expect(driver.serviceLogs('web', 10).map(e => e.line).join('\n')).toContain(`fake web 1.2.2 listening on 127.0.0.1:${WEB_PORT}`)
    expect(() => driver.serviceLogs('db', 10)).toThrow('unknown service db')
  })

  it('refuses a job planned from another version than the stack runs', async () => {
    await expect(driver.preflight(context({ fromVersion: '1.2.3' }))).rejects.toThrow('the stack runs 1.2.2, but the job was planned from 1.2.3')
  })

  it('skips what it has no equivalent for', async () => {
    const ctx = context()
    await driver.backup(ctx)
    expect(ctx.skipped).toBe('local driver: no data volumes to back up')
  })

  it('stages, promotes once, and recognises a promote that already happened', async () => {
    await expect(driver.promote(context())).rejects.toThrow(`nothing staged: ${paths.next} is missing`)
    await driver.stage(context())
    expect(readCompose(paths.next).version).toBe('1.3.0')
    expect(readCompose(paths.current).version).toBe('1.2.2')

    await driver.promote(context())
    expect(existsSync(paths.next)).toBe(false)
    expect(readCompose(paths.current).version).toBe('1.3.0')
    expect(readCompose(paths.prev).version).toBe('1.2.2')

    const again = context()
    await driver.promote(again)
    expect(again.lines).toEqual([`already promoted: ${paths.current} pins web 1.3.0`])
  })

  it('recreates at the promoted version, restores the previous one, and recognises a done restore', async () => {
    const recreate = context()
    await driver.recreate(recreate)
    expect(recreate.lines[1]).toMatch(/^started web 1\.3\.0 \(pid \d+\)$/)
    await driver.verify(context(), '1.3.0')

    await driver.restore(context())
    expect(readCompose(paths.current).version).toBe('1.2.2')
    expect(existsSync(paths.prev)).toBe(false)
    await driver.verify(context(), '1.2.2')

    const again = context()
    await driver.restore(again)
    expect(again.lines[0]).toBe(`already restored: ${paths.current} pins web 1.2.2`)
  })

  it('refuses to restore from a previous file of another version', async () => {
    writeFileSync(paths.prev, demoCompose({ version: '1.2.3' }))
    await expect(driver.restore(context({ fromVersion: '1.3.0' }))).rejects.toThrow(`cannot restore 1.3.0: ${paths.prev} pins 1.2.3`)
    expect(readFileSync(paths.prev, 'utf8')).toContain('web:1.2.3')
  })

  it('fails verification with the last thing it saw, keeping only what the verified version wrote', async () => {
    const ctx = context()
    await expect(driver.verify(ctx, '9.9.9')).rejects.toThrow('web did not become healthy within 3 s (last: /api/system/version answered 1.2.2, expected 9.9.9)')
    // The web running is 1.2.2: nothing of it is taken for what 9.9.9 said.
    expect(ctx.lines.at(-1)).toBe('web 9.9.9 wrote nothing while it was verified')
  })

  it('passes only public runtime config and the demo fault from the compose file\'s environment to the web', async () => {
    const secret = instanceSecret(dataDir)
    const webEnv = {
      NODE_OPTIONS: '--require /nonexistent/evil.js',
      LD_PRELOAD: '/nonexistent/evil.so',
      NUXT_SESSION_PASSWORD: 'chosen-by-the-release-author-0123456789',
      OWLAT_INSTANCE_SECRET: 'chosen-by-the-release-author',
      NUXT_PUBLIC_GREETING: 'hello',
    }
    const ctx = context({ fromVersion: '1.2.2', toVersion: '1.3.0', compose: demoCompose({ version: '1.3.0', webEnv }) })
    await driver.stage(ctx)
    await driver.promote(ctx)
    await driver.recreate(ctx)
    await driver.verify(context(), '1.3.0')
    const pid = Number(readFileSync(join(dataDir, 'updater', 'web.pid'), 'utf8'))
    const environ = Object.fromEntries(readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').filter(Boolean).map((entry) => {
      const eq = entry.indexOf('=')
      return [entry.slice(0, eq), entry.slice(eq + 1)]
    }))
    expect(environ.NUXT_PUBLIC_GREETING).toBe('hello')
    expect(environ.NUXT_PUBLIC_SITE_URL).toBe('http://127.0.0.1:3000')
    expect(environ.NODE_OPTIONS).toBeUndefined()
    expect(environ.LD_PRELOAD).toBeUndefined()
    expect(environ.NUXT_SESSION_PASSWORD).not.toBe(webEnv.NUXT_SESSION_PASSWORD)
    expect(environ.OWLAT_INSTANCE_SECRET).toBe(secret)
    expect(driverLog).toContain('web 1.3.0: not passing NODE_OPTIONS, LD_PRELOAD, NUXT_SESSION_PASSWORD, OWLAT_INSTANCE_SECRET from the compose file\'s environment to the web (only NUXT_PUBLIC_* and OWLAT_DEMO_FAULT are)')
    await driver.restore(ctx)
    await driver.verify(context(), '1.2.2')
  })

  it('fails pull when the web entry is missing', async () => {
    const missing = new LocalDriver(testConfig(dataDir, await freePort()), { webEntry: join(dataDir, 'no-such-entry.mjs'), log: () => {} })
    await expect(missing.pull(context())).rejects.toThrow('no-such-entry.mjs does not exist')
  })
})
