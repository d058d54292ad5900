/**
 * `owlat backup [--list]` and `owlat restore FILE` against a real updater (its own process, local
 * driver): what is refused before anything is asked or changed. The round trip through a compose
 * stack is in tests/docker/compose-backups.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { backupListSchema } from '../../shared/schemas/backup'
import { freePort } from '../setup/ports'
import { makeDemoInstance, runCli, startUpdater, stderrLines, type DemoInstance, type UpdaterProcess } from './helpers'

const WEB_PORT = await freePort()
const UPDATER_PORT = await freePort()

describe('owlat backup and restore', () => {
  let demo: DemoInstance
  let env: Record<string, string>
  let updater: UpdaterProcess

  beforeAll(async () => {
    demo = makeDemoInstance()
    env = { OWLAT_DATA_DIR: demo.dataDir, OWLAT_DIR: demo.owlatDir, PORT: String(WEB_PORT), OWLAT_UPDATER_PORT: String(UPDATER_PORT) }
    updater = await startUpdater(env, demo.secret)
  })

  afterAll(async () => {
    await updater?.stop()
  })

  it('backup says in one line why the local driver cannot back up', async () => {
    const result = await runCli(['backup'], env)
    expect(result.exitCode).toBe(1)
    expect(stderrLines(result)).toEqual([expect.stringMatching(/^owlat: the updater answered 400 to POST \/v1\/backups: the local driver cannot back up: the local driver runs no data volumes/)])
  })

  it('backup --list --json gives the list with the reason; --list alone says it', async () => {
    const json = await runCli(['backup', '--list', '--json'], env)
    expect(json.exitCode, json.stderr).toBe(0)
    expect(backupListSchema.parse(JSON.parse(json.stdout))).toMatchObject({ backups: [], supported: false, reason: expect.stringContaining('no data volumes') })
    const plain = await runCli(['backup', '--list'], env)
    expect(plain.exitCode).toBe(1)
    expect(stderrLines(plain)).toEqual([expect.stringMatching(/^owlat: this updater cannot back up: the local driver runs no data volumes/)])
  })

  it('restore refuses a name that is not a backup archive, and a missing one, before asking anything', async () => {
    for (const file of ['../../etc/passwd.tar', 'backup.tar.gz', 'owlat-2026.tar.gz']) {
      const result = await runCli(['restore', file, '--yes'], env)
      expect(result.exitCode, file).toBe(2)
      expect(stderrLines(result)).toEqual([expect.stringContaining('not a backup archive name')])
    }
    const missing = await runCli(['restore'], env)
    expect(missing.exitCode).toBe(2)
    expect(stderrLines(missing)).toEqual(['owlat: missing required positional argument: FILE: see owlat --help'])
  })

  it('restore without a terminal asks for --yes instead of the typed confirmation, and changes nothing', async () => {
    const result = await runCli(['restore', 'owlat-20260101-030000.tar.gz'], env)
    expect(result.exitCode).toBe(2)
    expect(stderrLines(result)).toEqual(['owlat: no terminal to confirm on: pass --yes to restore without the typed confirmation'])
    const history = await runCli(['history', '--json'], env)
    expect(JSON.parse(history.stdout)).toEqual({ jobs: [] })
  })

  it('restore --yes of a backup the local updater cannot have says why', async () => {
    const result = await runCli(['restore', 'owlat-20260101-030000.tar.gz', '--yes'], env)
    expect(result.exitCode).toBe(1)
    expect(stderrLines(result)).toEqual([expect.stringMatching(/^owlat: this updater cannot restore backups: the local driver runs no data volumes/)])
  })
})
