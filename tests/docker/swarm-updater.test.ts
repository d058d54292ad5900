/**
 * The updater in a swarm: this repository's updater image (`npm run images`) runs as a service of
 * the stack it updates, on a manager node, its journal on a volume, the engine reached through
 * the socket proxy (the stand-in of tests/docker/stand-ins). It updates the stack through its own
 * docker CLI without replacing itself, and a SIGKILL of its container after promote is settled by
 * the task Swarm starts in its place, from the journal on the volume.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type Docker from 'dockerode'
import { execa } from 'execa'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { stringify } from 'yaml'
import type { Job } from '../../shared/schemas/job'
import { eventually, instanceSecret, jobRequest, makeDataDir, SidecarClient, testConfig, writeCustomRelease } from '../sidecar/helpers'
import { freePort } from '../setup/ports'
import { buildVersion, REGISTRY, storeImage, webImage } from './images'
import { buildAndPushImages, buildAndPushStandIns, PROD_PREFIX, prodImage, STANDIN_PREFIX } from './production'
import { requireDocker, SKIP_DOCKER } from './stack'
import { removeSwarmStack, requireSwarm, runningTasks, type SwarmTestStack } from './swarm'

const INSTALLED = '1.0.0'
const GOOD = '1.1.0'
/** The updater image's version (the production suite builds the same one, so the build is shared). */
const UPDATER_VERSION = '1.2.2'
const UPDATER_PORT = 3200

const step = (job: Job, name: string) => job.steps.find(s => s.name === name)!

function stackFile(version: string, dir: string, stack: string, updaterPort: number, lbPort: number): string {
  const httpd = ['httpd', '-f', '-p', '3000', '-h', '/www']
  return stringify({
    version: '3.8',
    services: {
      'web': { image: webImage(version), command: httpd, stop_grace_period: '2s', deploy: { replicas: 2, endpoint_mode: 'dnsrr' } },
      'lb': { image: storeImage(INSTALLED), command: ['nc', '-ll', '-p', '8080', '-e', '/bin/lb-forward'], stop_grace_period: '1s', ports: [{ target: 8080, published: lbPort, mode: 'host' }] },
      'store': { image: storeImage(version), stop_grace_period: '1s', volumes: ['data:/data'] },
      // The engine's API for the updater, and only it: no virtual IP routes on this engine, so by DNS.
      'docker-socket-proxy': {
        image: `${STANDIN_PREFIX}docker-socket-proxy:1`,
        volumes: ['/var/run/docker.sock:/var/run/docker.sock'],
        deploy: { endpoint_mode: 'dnsrr', placement: { constraints: ['node.role == manager'] } },
      },
      'updater': {
        image: prodImage('updater', UPDATER_VERSION),
        environment: {
          OWLAT_DRIVER: 'swarm',
          OWLAT_SWARM_STACK: stack,
          OWLAT_SWARM_UPDATE_MONITOR: '2s',
          OWLAT_DIR: dir,
          DOCKER_HOST: 'tcp://docker-socket-proxy:2375',
          OWLAT_WEB_URL: 'http://web:3000',
          OWLAT_VERIFY_TIMEOUT_MS: '60000',
          OWLAT_WATCH_MS: '1000',
          OWLAT_ALLOWED_IMAGE_PREFIXES: [`${REGISTRY}/owlat/`, PROD_PREFIX, STANDIN_PREFIX].join(','),
          // From the environment of whoever deploys the file: the test, then the updater itself.
          OWLAT_INSTANCE_SECRET: '${OWLAT_INSTANCE_SECRET}',
          OWLAT_RELEASE_PUBLIC_KEY: '${OWLAT_RELEASE_PUBLIC_KEY}',
        },
        volumes: [`${dir}:${dir}`, 'updater-data:/data'],
        ports: [{ target: UPDATER_PORT, published: updaterPort, mode: 'host' }],
        deploy: { placement: { constraints: ['node.role == manager'] } },
      },
    },
    volumes: { 'data': {}, 'updater-data': {} },
  })
}

describe.skipIf(SKIP_DOCKER)('the updater in a swarm', () => {
  let docker: Docker
  let s: SwarmTestStack | null = null

  beforeAll(async () => {
    docker = await requireDocker()
    await requireSwarm(docker)
    await buildAndPushStandIns()
    await buildAndPushImages(UPDATER_VERSION)
    for (const version of [INSTALLED, GOOD]) await buildVersion(version)
  }, 1_200_000)

  afterAll(async () => {
    if (s) await removeSwarmStack(docker, s)
  })

  it('runs as a service on a manager and updates the stack without replacing itself; a SIGKILL after promote is settled by the task Swarm starts next', { timeout: 600_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'owlatswarm'))
    const stack = `owlatupd${dir.slice(-6).toLowerCase().replace(/[^a-z0-9]/g, '')}`
    const [updaterPort, lbPort] = [await freePort(), await freePort()]
    const dataDir = makeDataDir()
    const env = { OWLAT_INSTANCE_SECRET: instanceSecret(dataDir), OWLAT_RELEASE_PUBLIC_KEY: testConfig(dataDir, updaterPort).releasePublicKey() }
    const compose = (version: string) => stackFile(version, dir, stack, updaterPort, lbPort)
    writeFileSync(join(dir, 'docker-compose.yml'), compose(INSTALLED))
    s = { dir, stack, dataDir, lbPort, webUrl: `http://127.0.0.1:${lbPort}`, env: {}, compose, release: (v, c) => writeCustomRelease(dataDir, v, c) }

    await execa('docker', ['stack', 'deploy', '-c', join(dir, 'docker-compose.yml'), stack], { cwd: dir, env })
    const client = new SidecarClient(`http://127.0.0.1:${updaterPort}`, env.OWLAT_INSTANCE_SECRET)
    const health = await eventually(async () => {
      const answer = await client.request('GET', '/v1/health')
      return answer.status === 200 && (answer.body as { services: Array<{ health: string }> }).services.every(sv => sv.health === 'healthy') ? answer.body : null
    }, 'the updater service answering, every service healthy', 180_000) as { driver: string, version: string }
    expect(health).toMatchObject({ driver: 'swarm', version: INSTALLED })
    const updaterTask = async () => (await runningTasks(docker, s!, 'updater'))[0]

    // An update, with the updater's own task the same from start to end.
    const before = (await updaterTask())!.ID
    const { jobId } = await client.createJob(jobRequest(dataDir, GOOD, {}, s.release(GOOD, compose(GOOD))))
    const promoted = await client.waitForJob(jobId, j => step(j, 'promote').status === 'succeeded' && j.steps.some(st => st.status === 'running'), 180_000)
    expect(promoted.status).toBe('running')
    expect((await updaterTask())!.ID).toBe(before)

    // Its container killed there: Swarm starts another task, which finds the job in the journal on the volume.
    const container = (await updaterTask())!.Status.ContainerStatus!.ContainerID!
    await docker.getContainer(container).kill({ signal: 'SIGKILL' })
    const job = await eventually(async () => {
      const answer = await client.request('GET', `/v1/jobs/${jobId}`)
      const found = answer.status === 200 ? answer.body as Job : null
      if (!found || !['succeeded', 'rolled_back', 'failed'].includes(found.status)) throw new Error(`job ${found?.status ?? `answered ${answer.status}`}`)
      return found
    }, 'the job settled by the next updater task', 240_000)

    expect(job.status, JSON.stringify(job.steps.filter(st => st.error))).toBe('succeeded')
    expect(job.reason).toMatch(/after an updater restart\)?$/)
    expect(step(job, 'recreate').log).toContain('resumed after an updater restart')
    expect((await updaterTask())!.ID).not.toBe(before)
    expect(await (await fetch(`${s.webUrl}/api/system/version`)).json()).toMatchObject({ version: GOOD })
    // Every web task runs the new version.
    for (const task of await runningTasks(docker, s, 'web')) {
      const out = await docker.getContainer(task.Status.ContainerStatus!.ContainerID!).inspect()
      expect(out.Config.Image).toMatch(new RegExp(`/owlat/web:${GOOD}`))
    }
    expect(existsSync(join(dir, 'docker-compose.prev.yml'))).toBe(true)
  })

  afterAll(() => {
    if (s) rmSync(s.dataDir, { recursive: true, force: true })
  })
})
