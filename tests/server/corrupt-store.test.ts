/**
 * A corrupt store at start stops the process with a message naming the file, instead of a web
 * that passes its health check while every store route answers 500: the launcher (`npm start`),
 * the built web on its own (as its container runs it), and the updater's journal.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { execa } from 'execa'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bootstrapDataDir } from '../../scripts/bootstrap'
import { freePort } from '../setup/ports'
import { cleanEnv, ensureWebBuild, ROOT } from './stack'

const GARBAGE = 'this file lost its database header '.repeat(300)
const HINT = '(restore it from a backup, or move it aside to start with an empty one)'

describe('a corrupt store at start', () => {
  const dirs: string[] = []

  beforeAll(() => {
    ensureWebBuild()
  }, 300_000)

  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
  })

  function dataDir(): string {
    const dir = mkdtempSync(join(tmpdir(), 'owlat-corrupt-'))
    dirs.push(dir)
    bootstrapDataDir(dir)
    return dir
  }

  async function launch(dir: string) {
    return execa(process.execPath, ['--import', 'tsx', 'scripts/start.ts'], {
      cwd: ROOT,
      env: { ...cleanEnv(), OWLAT_DATA_DIR: dir, PORT: String(await freePort()), OWLAT_UPDATER_PORT: String(await freePort()), OWLAT_ADMIN_PASSWORD: 'admin-password-1' },
      extendEnv: false,
      reject: false,
      timeout: 120_000,
      all: true,
    })
  }

  it('stops the launcher when web.sqlite is not a database, naming the file', async () => {
    const dir = dataDir()
    writeFileSync(join(dir, 'web.sqlite'), GARBAGE)
    const result = await launch(dir)
    expect(result.exitCode).toBe(1)
    expect(result.all).toContain(`the web store ${join(dir, 'web.sqlite')} is unreadable: file is not a database ${HINT}`)
    expect(result.all).not.toContain('Owlat is running')
  })

  it('stops the launcher when the updater journal is not a database, naming the file', async () => {
    const dir = dataDir()
    mkdirSync(join(dir, 'updater'), { recursive: true })
    writeFileSync(join(dir, 'updater', 'journal.sqlite'), GARBAGE)
    const result = await launch(dir)
    expect(result.exitCode).toBe(1)
    expect(result.all).toContain(`the updater journal ${join(dir, 'updater', 'journal.sqlite')} is unreadable: file is not a database ${HINT}`)
  })

  it('stops the web itself, as its container runs it, naming the file', async () => {
    const dir = dataDir()
    writeFileSync(join(dir, 'web.sqlite'), GARBAGE)
    const result = await execa(process.execPath, [join(ROOT, '.output/server/index.mjs')], {
      env: { ...cleanEnv(), OWLAT_DATA_DIR: dir, PORT: String(await freePort()), HOST: '127.0.0.1', NUXT_SESSION_PASSWORD: 'x'.repeat(40) },
      extendEnv: false,
      reject: false,
      timeout: 60_000,
      all: true,
    })
    expect(result.exitCode).toBe(1)
    expect(result.all).toContain(`[store] the web store ${join(dir, 'web.sqlite')} is unreadable: file is not a database ${HINT}`)
  })
})
