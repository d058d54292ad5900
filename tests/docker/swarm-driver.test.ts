/**
 * The `swarm` driver's own behaviour on the real single-node swarm, beyond the driver contract
 * (tests/drivers/swarm.test.ts): Swarm's own rollback of a release that never becomes healthy,
 * the updater's service kept on its image during a job and moved after the commit, and the
 * compose policy's Swarm keys judged before anything changes.
 */
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import type Docker from 'dockerode'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { parse, stringify } from 'yaml'
import type { Job } from '../../shared/schemas/job'
import { DEPLOYED_FILE } from '../../sidecar/drivers/swarm'
import { eventually, jobRequest } from '../sidecar/helpers'
import { buildVersion, updaterImage } from './images'
import { requireDocker, SKIP_DOCKER, UPDATER_PORT } from './stack'
import { deploySwarmStack, makeSwarmStack, removeSwarmStack, requireSwarm, startSwarmSidecar, type SwarmTestStack } from './swarm'

const INSTALLED = '1.0.0'
const GOOD = '1.1.0'
const BROKEN = '1.2.0-broken'

const step = (job: Job, name: string) => job.steps.find(s => s.name === name)!

/**
 * Debian's docker CLI, as old as the engine it comes with (20.10: no `stack config`, no `stack
 * deploy --detach`), where it is not the one on PATH: the contract suite runs whichever is.
 */
const DEBIAN_CLI: Record<string, string> = existsSync('/usr/bin/docker') ? { OWLAT_DOCKER_CMD: '/usr/bin/docker' } : {}

interface ServiceSpec { Spec: { TaskTemplate: { ContainerSpec: { Image: string } } }, UpdateStatus?: { State?: string } }

describe.skipIf(SKIP_DOCKER)('swarm driver', () => {
  let docker: Docker
  let opened: { s: SwarmTestStack, close: () => Promise<void> } | null = null

  beforeAll(async () => {
    docker = await requireDocker()
    await requireSwarm(docker)
    for (const version of [INSTALLED, GOOD, BROKEN]) await buildVersion(version)
  }, 300_000)

  afterEach(async () => {
    await opened?.close()
    opened = null
  })

  async function open() {
    const s = await makeSwarmStack(INSTALLED, UPDATER_PORT, DEBIAN_CLI)
    await deploySwarmStack(docker, s)
    const { client, stop } = await startSwarmSidecar(s)
    opened = {
      s,
      close: async () => {
        await stop()
        await removeSwarmStack(docker, s)
      },
    }
    const submit = async (version: string, compose = s.compose(version)) => {
      const { jobId } = await client.createJob(jobRequest(s.dataDir, version, {}, s.release(version, compose)))
      return client.waitForJob(jobId, undefined, 150_000)
    }
    return { s, client, submit }
  }

  const spec = async (s: SwarmTestStack, service: string) => await docker.getService(`${s.stack}_${service}`).inspect() as ServiceSpec

  it('a release that never becomes healthy is rolled back by Swarm itself, then the previous file is deployed and verified', { timeout: 300_000 }, async () => {
    const { s, submit } = await open()
    const job = await submit(BROKEN)

    expect(job.status).toBe('rolled_back')
    expect(step(job, 'preflight').log).toEqual(expect.arrayContaining([expect.stringMatching(/^(docker stack config accepts the file to deploy|the file to deploy passes the compose policy \(this docker CLI, .*, has no stack config)/)]))
    expect(step(job, 'recreate').log).toContain('web: start-first (two copies can run side by side), all tasks at once, health-gated, failure_action rollback')
    expect(step(job, 'recreate').log).toContain('store: stop-first (it mounts a named volume), one task at a time, health-gated, failure_action rollback')
    expect(step(job, 'verify').error).toMatch(/^web: Swarm rolled the update back \(rollback_(started|completed): .+\)$/)
    expect(step(job, 'restore').log).toEqual(expect.arrayContaining([expect.stringMatching(/^web: Swarm rolled it back itself \(rollback_(started|completed)/)]))
    expect(step(job, 'verify-restore').status).toBe('succeeded')
    // The web never stopped answering the installed version through the published port.
    expect(await (await fetch(`${s.webUrl}/api/system/version`)).json()).toMatchObject({ version: INSTALLED })
    expect((await spec(s, 'web')).Spec.TaskTemplate.ContainerSpec.Image).toMatch(new RegExp(`/owlat/web:${INSTALLED}@sha256:`))
  })

  it('keeps the updater\'s own service on the image it runs during a job, and moves it once the job committed', { timeout: 300_000 }, async () => {
    const { s, submit } = await open()
    const before = (await spec(s, 'updater')).Spec.TaskTemplate.ContainerSpec.Image
    expect(before).toMatch(new RegExp(`^${updaterImage(INSTALLED).replace(/\./g, '\\.')}`))

    const job = await submit(GOOD)

    expect(job.status, JSON.stringify(job.steps.filter(st => st.error))).toBe('succeeded')
    // What the job deployed pinned the updater to the image it ran, not the release's.
    const deployed = parse(readFileSync(join(s.dir, DEPLOYED_FILE), 'utf8')) as { services: { updater: { image: string }, web: { image: string } } }
    expect(deployed.services.updater.image).toBe(before)
    expect(deployed.services.web.image).toBe(parse(s.compose(GOOD)).services.web.image)
    expect(step(job, 'recreate').log).toContain(`updater: stays on ${before} during the job (it moves to ${updaterImage(GOOD)} after the commit)`)
    // After the commit, Swarm moves it.
    await eventually(async () => (await spec(s, 'updater')).Spec.TaskTemplate.ContainerSpec.Image.startsWith(`${updaterImage(GOOD)}@`), 'the updater\'s service on the release\'s image', 60_000)
  })

  it('judges the Swarm keys with the compose policy before anything changes', { timeout: 300_000 }, async () => {
    const { s, client } = await open()
    const compose = readFileSync(join(s.dir, 'docker-compose.yml'), 'utf8')
    const doc = parse(s.compose(GOOD)) as { services: Record<string, Record<string, unknown>> }
    doc.services.web!.deploy = { mode: 'global' }
    const answer = await client.request('POST', '/v1/jobs', jobRequest(s.dataDir, GOOD, {}, s.release(GOOD, stringify(doc))))

    expect(answer.status).toBe(400)
    expect(JSON.stringify(answer.body)).toContain('service web: deploy.mode global runs a task on every node of the swarm, new ones included; allowed only for the services OWLAT_SWARM_GLOBAL_SERVICES names')
    expect(readFileSync(join(s.dir, 'docker-compose.yml'), 'utf8')).toBe(compose)
    expect((await spec(s, 'web')).Spec.TaskTemplate.ContainerSpec.Image).toMatch(new RegExp(`/owlat/web:${INSTALLED}@`))
  })
})
