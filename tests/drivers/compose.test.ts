/**
 * The driver contract against the `compose` driver on a real Docker engine
 * (scripts/setup-docker.sh), with the busybox stand-in images of tests/docker/images.ts from the
 * registry on 127.0.0.1:5000; every container runs `network_mode: none`. Run it under
 * `flock /tmp/owlat-docker.lock` with the other Docker suites.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import type Docker from 'dockerode'
import { beforeAll, describe, expect } from 'vitest'
import { execIn } from '../../sidecar/drivers/docker-engine'
import { REHEARSAL_LABEL } from '../../sidecar/drivers/compose-rehearsal'
import { startSidecar } from '../../sidecar/index'
import { buildVersion } from '../docker/images'
import {
  containersByService, downStack, makeStack, requireDocker, SKIP_DOCKER, stackCompose, stackConfig, UPDATER_PORT, type StackOptions, type TestStack,
} from '../docker/stack'
import { instanceSecret, jobRequest, SidecarClient } from '../sidecar/helpers'
import { describeDriverContract, type HarnessStack } from './contract'

const INSTALLED = '1.0.0'
const GOOD = '1.1.0'
const BROKEN = '1.2.0-broken'
/** Healthy at first, unhealthy a few seconds after it starts (tests/docker/images.ts). */
const FADING = '1.3.0-fading'
/** busybox httpd as pid 1 ignores SIGTERM, so stopping the old web holds `recreate` open this long. */
const WEB_STOP_GRACE_S = 15

let docker: Docker

async function exec(s: TestStack, service: string, cmd: string[]): Promise<string> {
  const container = (await containersByService(docker, s.project))[service]
  if (!container) throw new Error(`no ${service} container in ${s.project}`)
  const out = await execIn(docker, container.id, cmd)
  if (out.exitCode !== 0) throw new Error(`${cmd.join(' ')} exited with ${out.exitCode}: ${out.stderr}`)
  return out.stdout
}

function stackOf(s: TestStack, opts: StackOptions, client: SidecarClient, stopSidecar: () => Promise<void>): HarnessStack {
  return {
    client,
    request: (version, overrides) => jobRequest(s.dataDir, version, overrides, s.release(version, stackCompose(version, opts))),
    // The web container's own /version: what runs, whatever the files say.
    running: async () => (await exec(s, 'web', ['cat', '/version'])).trim(),
    compose: () => readFileSync(join(s.dir, 'docker-compose.yml'), 'utf8'),
    sideFiles: () => ({ next: existsSync(join(s.dir, 'docker-compose.next.yml')), prev: existsSync(join(s.dir, 'docker-compose.prev.yml')) }),
    identity: async () => Object.entries(await containersByService(docker, s.project)).map(([service, c]) => `${service}=${c.id}`).join(' '),
    // Everything labelled for the rehearsal, and its folder.
    rehearsalLeft: async (job) => {
      const filters = { label: [`${REHEARSAL_LABEL}=${job.id}`] }
      const left = [
        ...(await docker.listContainers({ all: true, filters })).map(c => `container ${c.Names[0]}`),
        ...((await docker.listVolumes({ filters })).Volumes ?? []).map(v => `volume ${v.Name}`),
        ...(await docker.listNetworks({ filters })).map(n => `network ${n.Name}`),
      ]
      if (existsSync(join(s.dir, 'rehearsals', job.id))) left.push(join(s.dir, 'rehearsals', job.id))
      return left
    },
    disturb: async () => {
      const web = (await containersByService(docker, s.project)).web!
      await docker.getContainer(web.id).stop({ t: 1 })
      return async () => {
        await docker.getContainer(web.id).start()
      }
    },
    data: {
      write: async (text) => {
        await exec(s, 'store', ['sh', '-c', `echo ${text} > /data/marker`])
      },
      read: async () => (await exec(s, 'store', ['cat', '/data/marker'])).trim(),
    },
    close: async () => {
      await stopSidecar()
      await downStack(s)
      rmSync(s.dir, { recursive: true, force: true })
    },
  }
}

describe.skipIf(SKIP_DOCKER)('compose', () => {
  beforeAll(async () => {
    docker = await requireDocker()
    for (const version of [INSTALLED, GOOD, BROKEN, FADING]) await buildVersion(version)
  })

  describeDriverContract({
    name: 'compose',
    installed: INSTALLED,
    good: GOOD,
    broken: BROKEN,
    fading: FADING,
    fadingWatchMs: 30_000,
    slow: GOOD,
    jobTimeoutMs: 120_000,
    stackOutlivesUpdater: true,

    async start(env = {}) {
      const s = makeStack(INSTALLED)
      Object.assign(s.env, env)
      // The driver and the job admission read their settings from the process environment.
      const savedEnv = { ...process.env }
      Object.assign(process.env, s.env)
      const sidecar = await startSidecar(stackConfig(s), { log: () => {} })
      const client = new SidecarClient(sidecar.url, instanceSecret(s.dataDir))
      const stop = async () => {
        await sidecar.close()
        process.env = savedEnv
      }
      return { ...stackOf(s, {}, client, stop), capabilities: sidecar.capabilities }
    },

    async startForProcess() {
      const opts = { webStopGrace: WEB_STOP_GRACE_S }
      const s = makeStack(INSTALLED, opts)
      const client = new SidecarClient(`http://127.0.0.1:${UPDATER_PORT}`, instanceSecret(s.dataDir))
      return { ...stackOf(s, opts, client, async () => {}), env: s.env }
    },

    // The job was cut in `recreate`, after promote: the target file is already the current one.
    async afterKill(stack) {
      expect(stack.compose()).toBe(stack.request(GOOD).compose)
      // The stack's lifetime is the engine's: a clean stop of the updater leaves it running.
      return async () => {
        expect(await stack.running()).toBe(GOOD)
      }
    },
  })
})
