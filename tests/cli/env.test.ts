import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { cliEnvironment, loadCliConfig, readDotenv } from '../../cli/env'
import { CliError } from '../../cli/errors'

function projectWith(dotenv: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'owlat-env-'))
  writeFileSync(join(dir, '.env'), dotenv)
  return dir
}

describe('CLI configuration', () => {
  it('reads OWLAT_DIR/.env (comments, quotes, export-free lines)', () => {
    const dir = projectWith('# made by the installer\nOWLAT_INSTANCE_SECRET="abcdefghijklmnopqrstuvwxyz012345"\nOWLAT_UPDATER_URL=http://10.0.0.2:3200\n\nREDIS_PASSWORD=\'p w\'\n')
    expect(readDotenv(join(dir, '.env'))).toEqual({
      OWLAT_INSTANCE_SECRET: 'abcdefghijklmnopqrstuvwxyz012345',
      OWLAT_UPDATER_URL: 'http://10.0.0.2:3200',
      REDIS_PASSWORD: 'p w',
    })
  })

  it('lets the environment win over the file', () => {
    const dir = projectWith('OWLAT_UPDATER_URL=http://from-file:3200\nOWLAT_DRIVER=compose\n')
    const env = cliEnvironment({ OWLAT_DIR: dir, OWLAT_UPDATER_URL: 'http://from-env:3200' })
    expect(env.OWLAT_UPDATER_URL).toBe('http://from-env:3200')
    expect(env.OWLAT_DRIVER).toBe('compose')
    const { config } = loadCliConfig({ OWLAT_DIR: dir, OWLAT_UPDATER_URL: 'http://from-env:3200' })
    expect(config.updaterUrl).toBe('http://from-env:3200')
    expect(config.driver).toBe('compose')
    expect(config.owlatDir).toBe(dir)
  })

  it('works without a .env file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'owlat-env-'))
    expect(cliEnvironment({ OWLAT_DIR: dir, OWLAT_DRIVER: 'local' })).toEqual({ OWLAT_DIR: dir, OWLAT_DRIVER: 'local' })
  })

  it('turns a bad value in the file into one CLI error naming the variable and the file', () => {
    const dir = projectWith('OWLAT_DRIVER=kubernetes\n')
    expect(() => loadCliConfig({ OWLAT_DIR: dir })).toThrow(CliError)
    expect(() => loadCliConfig({ OWLAT_DIR: dir })).toThrow(new RegExp(`OWLAT_DRIVER: .*fix the environment or ${join(dir, '.env')}`))
  })

  it('says what to do when the .env cannot be read', () => {
    const dir = mkdtempSync(join(tmpdir(), 'owlat-env-'))
    // A folder where the file should be: unreadable as a file, even for root.
    mkdirSync(join(dir, '.env'))
    expect(() => cliEnvironment({ OWLAT_DIR: dir })).toThrow(/cannot read .*\.env \(EISDIR\): run as a user who can, or set OWLAT_DIR/)
  })
})
