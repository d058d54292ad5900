/**
 * Test stacks for the `swarm` driver on the real single-node swarm `scripts/setup-docker.sh`
 * starts: a stack folder with the installed version's stack file, a data dir with a demo key, the
 * updater's environment, and clean-up. The stack runs the busybox stand-ins of images.ts:
 * - `web`: two replicas on the stack's overlay network, start-first, found by DNS (`dnsrr`: this
 *   engine runs without iptables, so Swarm's virtual IPs and ingress mesh do not route here);
 * - `lb`: the stand-in load balancer, one task publishing a free host port in host mode and
 *   handing each connection to a web task (images.ts, LB_FORWARD); the same image in every release;
 * - `store`: a named volume (stop-first); `updater`: the updater's own service, on a manager.
 * Used by tests/drivers/swarm.test.ts and bench/swarm-downtime.ts.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import type Docker from 'dockerode'
import { execa } from 'execa'
import { stringify } from 'yaml'
import { loadConfig } from '../../shared/config'
import { execIn } from '../../sidecar/drivers/docker-engine'
import { STACK_LABEL } from '../../sidecar/drivers/swarm'
import { startSidecar } from '../../sidecar/index'
import { instanceSecret, makeDataDir, SidecarClient, writeCustomRelease } from '../sidecar/helpers'
import { freePort } from '../setup/ports'
import { REGISTRY, storeImage, updaterImage, webImage } from './images'

/** When a `fading` web stops answering its healthcheck: after Swarm's update and verify, inside the watch window. */
export const SWARM_FADE_AFTER_S = 14
const WEB_PORT = 3000
const LB_PORT = 8080

/** What a broken web says on its output before it serves without a healthz (kept with the failed job). */
export const SWARM_BROKEN_SAYS = 'this build serves no /api/healthz'

function webCommand(version: string, httpd: string): string[] {
  if (version.includes('fading')) return ['sh', '-c', `(sleep ${SWARM_FADE_AFTER_S}; rm /www/api/healthz) & exec ${httpd}`]
  if (version.includes('broken')) return ['sh', '-c', `echo 'web ${version}: ${SWARM_BROKEN_SAYS}'; exec ${httpd}`]
  return httpd.split(' ')
}

export interface SwarmStackOptions {
  /** The image version the load balancer runs (the same in every release, so an update never touches it). */
  lbVersion: string
  lbPort: number
}

export function swarmCompose(version: string, opts: SwarmStackOptions): string {
  const httpd = `httpd -f -p ${WEB_PORT} -h /www`
  return stringify({
    // A docker CLI before 25 deploys no stack file without it.
    version: '3.8',
    services: {
      web: {
        image: webImage(version),
        command: webCommand(version, httpd),
        stop_grace_period: '2s',
        deploy: { replicas: 2, endpoint_mode: 'dnsrr' },
      },
      lb: {
        image: storeImage(opts.lbVersion),
        command: ['nc', '-ll', '-p', String(LB_PORT), '-e', '/bin/lb-forward'],
        stop_grace_period: '1s',
        ports: [{ target: LB_PORT, published: opts.lbPort, mode: 'host' }],
      },
      store: {
        image: storeImage(version),
        stop_grace_period: '1s',
        volumes: ['data:/data'],
      },
      updater: {
        image: updaterImage(version),
        stop_grace_period: '1s',
        volumes: ['updater-data:/data'],
        deploy: { placement: { constraints: ['node.role == manager'] } },
      },
    },
    volumes: { 'data': {}, 'updater-data': {} },
  })
}

export interface SwarmTestStack {
  dir: string
  stack: string
  dataDir: string
  lbPort: number
  /** The web as a client sees it: through the load balancer's published port. */
  webUrl: string
  env: Record<string, string>
  compose: (version: string) => string
  release: (version: string, compose: string) => string
}

/** Fails with the one thing to do when this engine is not a swarm manager. */
export async function requireSwarm(docker: Docker): Promise<void> {
  const info = await docker.info() as { Swarm?: { LocalNodeState?: string, ControlAvailable?: boolean } }
  if (info.Swarm?.LocalNodeState !== 'active' || !info.Swarm.ControlAvailable) {
    throw new Error('this engine is not a swarm manager: run `sudo bash scripts/setup-docker.sh` (it runs docker swarm init --advertise-addr 127.0.0.1), or set OWLAT_SKIP_DOCKER=1')
  }
}

export async function makeSwarmStack(installed: string, updaterPort: number, env: Record<string, string> = {}): Promise<SwarmTestStack> {
  const dir = mkdtempSync(join(tmpdir(), 'owlatswarm'))
  const stack = `owlat${dir.slice(dir.lastIndexOf('/') + 'owlatswarm'.length + 1).toLowerCase().replace(/[^a-z0-9]/g, '')}`
  const lbPort = await freePort()
  const opts = { lbVersion: installed, lbPort }
  writeFileSync(join(dir, 'docker-compose.yml'), swarmCompose(installed, opts))
  const dataDir = makeDataDir()
  const webUrl = `http://127.0.0.1:${lbPort}`
  return {
    dir,
    stack,
    dataDir,
    lbPort,
    webUrl,
    env: {
      OWLAT_DATA_DIR: dataDir,
      OWLAT_DRIVER: 'swarm',
      OWLAT_SWARM_STACK: stack,
      OWLAT_SWARM_UPDATE_MONITOR: '2s',
      OWLAT_DIR: dir,
      OWLAT_UPDATER_PORT: String(updaterPort),
      OWLAT_VERIFY_TIMEOUT_MS: '60000',
      OWLAT_WATCH_MS: '1000',
      OWLAT_ALLOWED_IMAGE_PREFIXES: `${REGISTRY}/owlat/`,
      OWLAT_WEB_VERSION_CHECK: 'http',
      OWLAT_WEB_URL: webUrl,
      ...env,
    },
    compose: version => swarmCompose(version, opts),
    release: (version, compose) => writeCustomRelease(dataDir, version, compose),
  }
}

export function swarmConfig(s: SwarmTestStack) {
  return loadConfig(s.env)
}

/** An updater on the stack in this process (the driver and the admission read the process environment while it runs). */
export async function startSwarmSidecar(s: SwarmTestStack) {
  const savedEnv = { ...process.env }
  Object.assign(process.env, s.env)
  const sidecar = await startSidecar(swarmConfig(s), { log: () => {} })
  return {
    client: new SidecarClient(sidecar.url, instanceSecret(s.dataDir)),
    capabilities: sidecar.capabilities,
    stop: async () => {
      await sidecar.close()
      process.env = savedEnv
    },
  }
}

interface Task { ID: string, Status: { State: string, ContainerStatus?: { ContainerID?: string } } }

/** The running tasks of one service of the stack. */
export async function runningTasks(docker: Docker, s: SwarmTestStack, service: string): Promise<Task[]> {
  const tasks = await docker.listTasks({ filters: { 'service': [`${s.stack}_${service}`], 'desired-state': ['running'] } }) as unknown as Task[]
  return tasks.filter(t => t.Status.State === 'running')
}

/** Runs `cmd` in the first running task of `service` (one node: its container is here). */
export async function execInService(docker: Docker, s: SwarmTestStack, service: string, cmd: string[]): Promise<string> {
  const task = (await runningTasks(docker, s, service))[0]
  const id = task?.Status.ContainerStatus?.ContainerID
  if (!id) throw new Error(`no running task of ${s.stack}_${service}`)
  const out = await execIn(docker, id, cmd)
  if (out.exitCode !== 0) throw new Error(`${cmd.join(' ')} exited with ${out.exitCode}: ${out.stderr}`)
  return out.stdout
}

/** Deploys the stack's current file as an operator would, and waits until every task runs and the web answers through the load balancer. */
export async function deploySwarmStack(docker: Docker, s: SwarmTestStack): Promise<void> {
  // Detached either way: a docker CLI before 26 has no --detach, a later one defaults to it (for now).
  await execa(s.env.OWLAT_DOCKER_CMD ?? 'docker', ['stack', 'deploy', '-c', join(s.dir, 'docker-compose.yml'), s.stack])
  const deadline = Date.now() + 120_000
  for (;;) {
    const counts = await Promise.all([['web', 2], ['lb', 1], ['store', 1], ['updater', 1]].map(async ([service, n]) => (await runningTasks(docker, s, service as string)).length >= (n as number)))
    const answers = await fetch(`${s.webUrl}/api/system/version`, { signal: AbortSignal.timeout(2000) }).then(r => r.ok, () => false)
    if (counts.every(Boolean) && answers) return
    if (Date.now() > deadline) throw new Error(`stack ${s.stack} did not come up within 120 s`)
    await sleep(500)
  }
}

/** Removes the stack, then (once its containers are gone) its volumes and the folders. */
export async function removeSwarmStack(docker: Docker, s: SwarmTestStack): Promise<void> {
  await execa('docker', ['stack', 'rm', s.stack], { reject: false })
  const filters = { label: [`${STACK_LABEL}=${s.stack}`] }
  const deadline = Date.now() + 60_000
  while (Date.now() < deadline && ((await docker.listContainers({ all: true, filters })).length > 0 || (await docker.listNetworks({ filters })).length > 0)) await sleep(500)
  for (const v of (await docker.listVolumes({ filters })).Volumes ?? []) await docker.getVolume(v.Name).remove().catch(() => {})
  rmSync(s.dir, { recursive: true, force: true })
}
