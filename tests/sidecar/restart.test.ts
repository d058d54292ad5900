/**
 * The sidecar as its own process (`node --import tsx sidecar/main.ts`). Being SIGKILLed in the
 * middle of a job and settling it once started again is the driver contract's (tests/drivers/).
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { freePort } from '../setup/ports'
import { makeDataDir, runSidecarProcess, sidecarEnv } from './helpers'

const UPDATER_PORT = await freePort()

describe('sidecar process', () => {
  it('exits 1 with one line on stderr when it cannot start', async () => {
    const proc = runSidecarProcess({ ...sidecarEnv(makeDataDir(), UPDATER_PORT), OWLAT_UPDATER_PORT: 'nope' })
    try {
      expect(await proc.exited).toEqual({ code: 1, signal: null })
      expect(proc.stderr()).toMatch(/^owlat updater: invalid configuration: OWLAT_UPDATER_PORT: [^\n]+\n$/)
    }
    finally {
      await proc.stop()
    }
  })

  it('exits 1 naming the journal when it is not a database', async () => {
    const dataDir = makeDataDir()
    const journal = join(dataDir, 'updater', 'journal.sqlite')
    mkdirSync(join(dataDir, 'updater'))
    writeFileSync(journal, 'not a journal '.repeat(500))
    const proc = runSidecarProcess(sidecarEnv(dataDir, UPDATER_PORT))
    try {
      expect(await proc.exited).toEqual({ code: 1, signal: null })
      expect(proc.stderr()).toBe(`owlat updater: the updater journal ${journal} is unreadable: file is not a database (restore it from a backup, or move it aside to start with an empty one)\n`)
    }
    finally {
      await proc.stop()
    }
  })

  it('refuses to start with a driver that is not registered', async () => {
    const proc = runSidecarProcess({ ...sidecarEnv(makeDataDir(), UPDATER_PORT), OWLAT_DRIVER: 'kubernetes' })
    try {
      expect(await proc.exited).toEqual({ code: 1, signal: null })
      expect(proc.stderr()).toMatch(/^owlat updater: invalid configuration: OWLAT_DRIVER: [^\n]*"local"[^\n]*"compose"/)
    }
    finally {
      await proc.stop()
    }
  })
})
