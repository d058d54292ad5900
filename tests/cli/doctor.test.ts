import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { stringify } from 'yaml'
import { formatCheck, secretWeakness } from '../../cli/commands/doctor'
import { freePort, makeDemoInstance, runCli, stderrLines } from './helpers'

describe('secretWeakness', () => {
  it.each([
    ['', 'fail', 'is empty'],
    ['changeme', 'fail', 'is a placeholder'],
    ['<your-secret-here>', 'fail', 'is a placeholder'],
    ['aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', 'fail', 'is too repetitive to be random'],
    ['Xk3pQ9vLm2', 'warn', 'is shorter than 32 characters'],
  ])('%j → %s', (value, level, why) => {
    expect(secretWeakness(value)).toEqual({ level, why })
  })

  it('accepts a random 32-byte hex secret', () => {
    expect(secretWeakness('9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08')).toBeNull()
  })
})

describe('formatCheck', () => {
  it('puts status, id, message and fix on one line', () => {
    expect(formatCheck({ id: 'disk', status: 'warn', message: '3.0 GiB free', fix: 'free space', blocking: true })).toBe('! warn disk                 3.0 GiB free → free space')
    expect(formatCheck({ id: 'clock', status: 'ok', message: 'in step', fix: null, blocking: false })).toBe('✔ ok   clock                in step')
    expect(formatCheck({ id: 'ptr', status: 'skip', message: 'no resolver', fix: null, blocking: false })).toBe('- skip ptr                  no resolver')
  })
})

describe('owlat doctor (compose driver, updater down)', () => {
  async function doctorWith(compose: unknown, dotenv = '') {
    const demo = makeDemoInstance()
    writeFileSync(join(demo.owlatDir, 'docker-compose.yml'), stringify(compose))
    writeFileSync(join(demo.owlatDir, '.env'), dotenv)
    const port = await freePort()
    return runCli(['doctor'], { OWLAT_DATA_DIR: demo.dataDir, OWLAT_DIR: demo.owlatDir, OWLAT_DRIVER: 'compose', OWLAT_UPDATER_PORT: String(port) })
  }

  it('checks the project\'s compose file against the policy', async () => {
    const result = await doctorWith({ services: { web: { image: 'ghcr.io/owlat/web:1.3.0', privileged: true } } })
    expect(result.exitCode).toBe(1)
    expect(result.stdout).toMatch(/^✖ fail compose +.*docker-compose\.yml: 1 policy violation\(s\), first: service web: privileged mode.* → run owlat compose check /m)
    expect(stderrLines(result)).toEqual(['owlat: doctor: 2 check(s) failed: updater, compose'])
  })

  it('passes a clean compose file', async () => {
    const result = await doctorWith({ services: { web: { image: 'ghcr.io/owlat/web:1.3.0' } } })
    expect(result.stdout).toMatch(/^✔ ok +compose +.*docker-compose\.yml passes the compose policy$/m)
  })

  it('fails placeholder secrets in the project .env, naming the variable but never the value', async () => {
    const result = await doctorWith({ services: { web: { image: 'ghcr.io/owlat/web:1.3.0' } } }, 'REDIS_PASSWORD=changeme\nMTA_API_KEY=\nWORKER_CONCURRENCY=50\n')
    const line = result.stdout.split('\n').find(l => l.includes(' secrets ')) ?? ''
    expect(line).toMatch(/^✖ fail secrets +.* → generate real ones/)
    expect(line).toMatch(/REDIS_PASSWORD in .*\.env is a placeholder/)
    expect(line).toMatch(/MTA_API_KEY in .*\.env is empty/)
    expect(line).not.toContain('changeme')
    expect(line).not.toContain('WORKER_CONCURRENCY')
  })
})
