/**
 * The sidecar as its own process (`node --import tsx sidecar/main.ts`): SIGKILLed in the middle
 * of an update, started again, it settles the job and cleans up the web it left behind.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { freePort } from '../setup/ports'
import { sidecarHealthSchema } from '../../shared/schemas/job'
import { isTerminalStatus } from '../../shared/run-state'
import { readCompose } from '../../sidecar/compose-file'
import { isAlive, waitPortFree } from '../../sidecar/drivers/processes'
import {
  eventually, instanceSecret, jobRequest, makeDataDir, REPO_ROOT, sidecarEnv, SidecarClient, WEB_PORT, webVersion,
} from './helpers'

const UPDATER_PORT = await freePort()

interface Proc {
  child: ChildProcess
  stderr: () => string
  exited: Promise<{ code: number | null, signal: NodeJS.Signals | null }>
}

function runSidecar(env: Record<string, string>): Proc {
  const child = spawn(process.execPath, ['--import', 'tsx', 'sidecar/main.ts'], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  let stderr = ''
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
  const exited = new Promise<{ code: number | null, signal: NodeJS.Signals | null }>(resolve => child.once('exit', (code, signal) => resolve({ code, signal })))
  return { child, stderr: () => stderr, exited }
}

describe('sidecar process', () => {
  const started: Proc[] = []
  afterEach(async () => {
    for (const proc of started.splice(0)) {
      if (proc.child.exitCode === null && proc.child.signalCode === null) {
        proc.child.kill('SIGTERM')
        await proc.exited
      }
    }
  })

  it('exits 1 with one line on stderr when it cannot start', async () => {
    const proc = runSidecar({ ...sidecarEnv(makeDataDir(), UPDATER_PORT), OWLAT_UPDATER_PORT: 'nope' })
    started.push(proc)
    expect(await proc.exited).toEqual({ code: 1, signal: null })
    expect(proc.stderr()).toMatch(/^owlat updater: invalid configuration: OWLAT_UPDATER_PORT: [^\n]+\n$/)
  })

  it('settles a job interrupted by SIGKILL after promote and stops the orphaned web', async () => {
    const dataDir = makeDataDir()
    const env = sidecarEnv(dataDir, UPDATER_PORT)
    const secret = instanceSecret(dataDir)
    const client = new SidecarClient(`http://127.0.0.1:${UPDATER_PORT}`, secret)
    const webPid = () => Number(readFileSync(join(dataDir, 'updater', 'web.pid'), 'utf8'))
    const webHealthy = async () => sidecarHealthSchema.parse((await client.request('GET', '/v1/health')).body).services[0]?.health === 'healthy'

    const first = runSidecar(env)
    started.push(first)
    await eventually(webHealthy, 'first sidecar up with a healthy web')

    const accepted = await client.request('POST', '/v1/jobs', jobRequest(dataDir, '1.4.0-beta.1'))
    expect(accepted.status).toBe(202)
    const { jobId } = accepted.body as { jobId: string }
    // Verifying the broken beta: the compose file is promoted and the beta web is running.
    await client.waitForJob(jobId, job => job.steps.find(s => s.name === 'verify')?.status === 'running')
    const orphan = webPid()
    first.child.kill('SIGKILL')
    expect(await first.exited).toEqual({ code: null, signal: 'SIGKILL' })
    expect(isAlive(orphan)).toBe(true)
    expect(readCompose(join(dataDir, 'stack', 'docker-compose.yml')).version).toBe('1.4.0-beta.1')

    const second = runSidecar(env)
    started.push(second)
    await eventually(async () => (await client.request('GET', '/v1/health')).status === 200, 'second sidecar up')
    expect(isAlive(orphan)).toBe(false)

    const job = await client.waitForJob(jobId)
    expect(job.status).toBe('rolled_back')
    expect(job.reason).toBe('verify failed: web did not become healthy within 3 s (last: /api/healthz answered 503); restored 1.2.2 (after an updater restart)')
    expect(job.steps.find(s => s.name === 'recreate')!.log).toContain('resumed after an updater restart')
    const jobs = (await client.request('GET', '/v1/jobs')).body as { jobs: { status: 'queued' }[] }
    expect(jobs.jobs.every(j => isTerminalStatus(j.status))).toBe(true)

    expect(await webVersion(secret)).toBe('1.2.2')
    expect(readCompose(join(dataDir, 'stack', 'docker-compose.yml')).version).toBe('1.2.2')
    const health = sidecarHealthSchema.parse((await client.request('GET', '/v1/health')).body)
    expect(health).toMatchObject({ version: '1.2.2', services: [{ version: '1.2.2', health: 'healthy' }] })

    // A clean stop takes the web down with it.
    const web = webPid()
    second.child.kill('SIGTERM')
    expect(await second.exited).toEqual({ code: 0, signal: null })
    expect(isAlive(web)).toBe(false)
    await waitPortFree(WEB_PORT, '127.0.0.1', 1000)
  })
})
