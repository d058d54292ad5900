/**
 * The driver contract against the `swarm` driver on a real single-node swarm (scripts/setup-docker.sh
 * runs `docker swarm init --advertise-addr 127.0.0.1`), with the busybox stand-ins of
 * tests/docker/images.ts from the registry on 127.0.0.1:5000 and the stack of tests/docker/swarm.ts:
 * two web replicas behind a stand-in load balancer whose published port `verify` asks. Run it under
 * `flock /tmp/owlat-docker.lock` with the other Docker suites.
 */
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import type Docker from 'dockerode'
import { execa } from 'execa'
import { beforeAll, describe, expect } from 'vitest'
import { buildVersion } from '../docker/images'
import { requireDocker, SKIP_DOCKER, UPDATER_PORT } from '../docker/stack'
import { deploySwarmStack, execInService, makeSwarmStack, removeSwarmStack, requireSwarm, runningTasks, startSwarmSidecar, SWARM_BROKEN_SAYS, type SwarmTestStack } from '../docker/swarm'
import { execIn } from '../../sidecar/drivers/docker-engine'
import { instanceSecret, jobRequest, SidecarClient } from '../sidecar/helpers'
import { describeDriverContract, type HarnessStack } from './contract'

const INSTALLED = '1.0.0'
const GOOD = '1.1.0'
const BROKEN = '1.2.0-broken'
const FADING = '1.3.0-fading'

let docker: Docker

/** What every running web task answers itself (one version when the update is whole). */
async function webVersions(s: SwarmTestStack): Promise<string> {
  const versions = new Set<string>()
  for (const task of await runningTasks(docker, s, 'web')) {
    const id = task.Status.ContainerStatus?.ContainerID
    if (!id) continue
    const out = await execIn(docker, id, ['cat', '/version'])
    versions.add(out.stdout.trim())
  }
  return [...versions].sort().join(',')
}

function stackOf(s: SwarmTestStack, client: SidecarClient, stopSidecar: () => Promise<void>): HarnessStack {
  return {
    client,
    request: (version, overrides) => jobRequest(s.dataDir, version, overrides, s.release(version, s.compose(version))),
    running: () => webVersions(s),
    compose: () => readFileSync(join(s.dir, 'docker-compose.yml'), 'utf8'),
    sideFiles: () => ({ next: existsSync(join(s.dir, 'docker-compose.next.yml')), prev: existsSync(join(s.dir, 'docker-compose.prev.yml')) }),
    identity: async () => {
      const ids = await Promise.all(['web', 'lb', 'store', 'updater'].map(async service => (await runningTasks(docker, s, service)).map(t => `${service}=${t.ID}`)))
      return ids.flat().sort().join(' ')
    },
    rehearsalLeft: async () => [],
    // No web task runs until it is scaled back.
    disturb: async () => {
      await execa('docker', ['service', 'scale', '--detach', `${s.stack}_web=0`])
      return async () => {
        await execa('docker', ['service', 'scale', '--detach', `${s.stack}_web=2`])
      }
    },
    data: {
      write: async (text) => {
        await execInService(docker, s, 'store', ['sh', '-c', `echo ${text} > /data/marker`])
      },
      read: async () => (await execInService(docker, s, 'store', ['cat', '/data/marker'])).trim(),
    },
    close: async () => {
      await stopSidecar()
      await removeSwarmStack(docker, s)
    },
  }
}

describe.skipIf(SKIP_DOCKER)('swarm', () => {
  beforeAll(async () => {
    docker = await requireDocker()
    await requireSwarm(docker)
    for (const version of [INSTALLED, GOOD, BROKEN, FADING]) await buildVersion(version)
  }, 300_000)

  describeDriverContract({
    name: 'swarm',
    installed: INSTALLED,
    good: GOOD,
    broken: BROKEN,
    brokenSays: SWARM_BROKEN_SAYS,
    fading: FADING,
    fadingWatchMs: 40_000,
    slow: GOOD,
    jobTimeoutMs: 150_000,
    stackOutlivesUpdater: true,
    rehearsals: false,

    async start(env = {}) {
      const s = await makeSwarmStack(INSTALLED, UPDATER_PORT, env)
      await deploySwarmStack(docker, s)
      const { client, capabilities, stop } = await startSwarmSidecar(s)
      return { ...stackOf(s, client, stop), capabilities }
    },

    async startForProcess() {
      const s = await makeSwarmStack(INSTALLED, UPDATER_PORT)
      await deploySwarmStack(docker, s)
      const client = new SidecarClient(`http://127.0.0.1:${UPDATER_PORT}`, instanceSecret(s.dataDir))
      return { ...stackOf(s, client, async () => {}), env: s.env }
    },

    // The job was cut after promote: the target file is already the current one.
    async afterKill(stack) {
      expect(stack.compose()).toBe(stack.request(GOOD).compose)
      // The stack's lifetime is the swarm's: a clean stop of the updater leaves it running.
      return async () => {
        expect(await stack.running()).toBe(GOOD)
      }
    },
  })
})
