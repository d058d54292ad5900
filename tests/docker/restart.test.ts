/**
 * The sidecar as its own process (`node --import tsx sidecar/main.ts`, OWLAT_DRIVER=compose),
 * SIGKILLed while `recreate` runs, then started again: the job ends in a terminal state and
 * every service runs the version the compose file and the journal agree on.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import type Docker from 'dockerode'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { sidecarHealthSchema } from '../../shared/schemas/job'
import { eventually, instanceSecret, jobRequest, REPO_ROOT, SidecarClient } from '../sidecar/helpers'
import { buildVersion, storeImage, webImage } from './images'
import { containersByService, downStack, imageId, makeStack, requireDocker, SKIP_DOCKER, stackCompose, UPDATER_PORT, type TestStack } from './stack'

const INSTALLED = '1.0.0'
const TARGET = '1.1.0'
/** busybox httpd as pid 1 ignores SIGTERM, so stopping the old web holds `recreate` open this long. */
const WEB_STOP_GRACE_S = 15

interface Proc {
  child: ChildProcess
  exited: Promise<{ code: number | null, signal: NodeJS.Signals | null }>
}

function runSidecar(env: Record<string, string>): Proc {
  const child = spawn(process.execPath, ['--import', 'tsx', 'sidecar/main.ts'], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  })
  const exited = new Promise<{ code: number | null, signal: NodeJS.Signals | null }>(resolve => child.once('exit', (code, signal) => resolve({ code, signal })))
  return { child, exited }
}

describe.skipIf(SKIP_DOCKER)('compose sidecar process on a real engine', () => {
  let docker: Docker
  let stack: TestStack | null = null
  const started: Proc[] = []

  beforeAll(async () => {
    docker = await requireDocker()
    for (const version of [INSTALLED, TARGET]) await buildVersion(version)
  })

  afterEach(async () => {
    for (const proc of started.splice(0)) {
      if (proc.child.exitCode === null && proc.child.signalCode === null) {
        proc.child.kill('SIGTERM')
        await proc.exited
      }
    }
    if (stack) {
      await downStack(stack)
      rmSync(stack.dir, { recursive: true, force: true })
    }
    stack = null
  })

  it('settles a job whose sidecar was SIGKILLed during recreate', { timeout: 300_000 }, async () => {
    const s = makeStack(INSTALLED, { webStopGrace: WEB_STOP_GRACE_S })
    stack = s
    const client = new SidecarClient(`http://127.0.0.1:${UPDATER_PORT}`, instanceSecret(s.dataDir))
    const stackHealthy = async () => {
      const health = sidecarHealthSchema.parse((await client.request('GET', '/v1/health')).body)
      return health.services.length === 2 && health.services.every(sv => sv.health === 'healthy')
    }

    const first = runSidecar(s.env)
    started.push(first)
    await eventually(stackHealthy, 'first sidecar up with a healthy stack', 60_000)

    const target = stackCompose(TARGET, { webStopGrace: WEB_STOP_GRACE_S })
    const accepted = await client.request('POST', '/v1/jobs', jobRequest(s.dataDir, TARGET, {}, s.release(TARGET, target)))
    expect(accepted.status).toBe(202)
    const { jobId } = accepted.body as { jobId: string }
    await client.waitForJob(jobId, job => job.steps.find(st => st.name === 'recreate')?.status === 'running', 120_000)
    first.child.kill('SIGKILL')
    expect(await first.exited).toEqual({ code: null, signal: 'SIGKILL' })
    expect(readFileSync(join(s.dir, 'docker-compose.yml'), 'utf8')).toBe(target)

    const second = runSidecar(s.env)
    started.push(second)
    await eventually(async () => (await client.request('GET', '/v1/health')).status === 200, 'second sidecar up', 180_000)
    const job = await client.waitForJob(jobId, undefined, 180_000)

    expect(job.status).toBe('succeeded')
    expect(job.reason).toBe('completed after an updater restart')
    expect(job.steps.find(st => st.name === 'recreate')!.log).toContain('resumed after an updater restart')
    const after = await containersByService(docker, s.project)
    expect(after.web).toMatchObject({ imageId: await imageId(docker, webImage(TARGET)), running: true, health: 'healthy' })
    expect(after.store).toMatchObject({ imageId: await imageId(docker, storeImage(TARGET)), running: true, health: 'healthy' })
    const health = sidecarHealthSchema.parse((await client.request('GET', '/v1/health')).body)
    expect(health.version).toBe(TARGET)
    expect(health.services.map(sv => sv.version)).toEqual([TARGET, TARGET])

    // A clean stop leaves the stack running: its lifetime is the engine's, not the updater's.
    second.child.kill('SIGTERM')
    expect(await second.exited).toEqual({ code: 0, signal: null })
    expect((await containersByService(docker, s.project)).web!.running).toBe(true)
  })
})
