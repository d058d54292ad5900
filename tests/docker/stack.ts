/**
 * Test stacks for the real-engine suite: a compose project in a temp folder whose services run
 * with `network_mode: none` (nothing leaves the host; health comes from each container's own
 * healthcheck), the sidecar's data dir with a demo key to sign releases, and clean-up.
 */
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Docker from 'dockerode'
import { execa } from 'execa'
import { stringify } from 'yaml'
import { loadConfig } from '../../shared/config'
import { REHEARSAL_OF_LABEL } from '../../sidecar/drivers/compose-rehearsal'
import { projectContainers, type ServiceContainer } from '../../sidecar/drivers/docker-engine'
import { makeDataDir, writeCustomRelease } from '../sidecar/helpers'
import { freePort } from '../setup/ports'
import { REGISTRY, storeImage, updaterImage, webImage } from './images'

export const SKIP_DOCKER = process.env.OWLAT_SKIP_DOCKER === '1'
export const UPDATER_PORT = await freePort()

/** Fails the suite with the one thing to do when the engine or the registry is not there. */
export async function requireDocker(): Promise<Docker> {
  const docker = new Docker()
  const fix = 'run `sudo bash scripts/setup-docker.sh` first (or set OWLAT_SKIP_DOCKER=1 to skip these tests)'
  try {
    await docker.ping()
  }
  catch (err) {
    throw new Error(`the Docker engine does not answer (${(err as Error).message}): ${fix}`, { cause: err })
  }
  const registry = await fetch(`http://${REGISTRY}/v2/`).then(r => r.status, () => 0)
  if (registry !== 200) throw new Error(`no registry answers on ${REGISTRY}: ${fix}`)
  return docker
}

export interface StackOptions {
  /** Web image version when it differs from the release version. */
  webVersion?: string
  /** Include the `convex-deploy` one-shot under the `deploy` profile. */
  functions?: boolean
  /** Seconds the engine waits for the web to stop (busybox httpd as pid 1 ignores SIGTERM). */
  webStopGrace?: number
  /** Include an `updater` service (the updater's own, which jobs must never recreate). */
  updater?: boolean
}

export function stackCompose(version: string, opts: StackOptions = {}): string {
  const services: Record<string, unknown> = {
    web: {
      image: webImage(opts.webVersion ?? version),
      network_mode: 'none',
      stop_grace_period: `${opts.webStopGrace ?? 1}s`,
    },
    store: {
      image: storeImage(version),
      network_mode: 'none',
      stop_grace_period: '1s',
      volumes: ['data:/data'],
    },
  }
  if (opts.updater) {
    services.updater = {
      image: updaterImage(version),
      network_mode: 'none',
      stop_grace_period: '1s',
      volumes: ['updater-data:/data'],
    }
  }
  if (opts.functions !== false) {
    services['convex-deploy'] = {
      image: webImage(opts.webVersion ?? version),
      profiles: ['deploy'],
      network_mode: 'none',
      // Stands in for `convex deploy`: leaves the deployed version where the test can see it.
      command: ['sh', '-c', 'cat /version > /data/functions-version'],
      volumes: ['data:/data'],
    }
  }
  return stringify({ services, volumes: opts.updater ? { 'data': {}, 'updater-data': {} } : { data: {} } })
}

export interface TestStack {
  dir: string
  project: string
  dataDir: string
  env: Record<string, string>
  /** Signs `compose` as release `version` and returns the folder holding its artifacts. */
  release: (version: string, compose: string) => string
}

/** Project folder with the installed version's compose file, a data dir, and the sidecar's environment. */
export function makeStack(installed: string, opts: StackOptions = {}): TestStack {
  const dir = mkdtempSync(join(tmpdir(), 'owlatstack'))
  writeFileSync(join(dir, 'docker-compose.yml'), stackCompose(installed, opts))
  const dataDir = makeDataDir()
  const env = {
    OWLAT_DATA_DIR: dataDir,
    OWLAT_DRIVER: 'compose',
    OWLAT_DIR: dir,
    OWLAT_UPDATER_PORT: String(UPDATER_PORT),
    OWLAT_VERIFY_TIMEOUT_MS: '30000',
    OWLAT_WATCH_MS: '1000',
    OWLAT_ALLOWED_IMAGE_PREFIXES: `${REGISTRY}/owlat/`,
    OWLAT_WEB_VERSION_CHECK: 'exec',
    OWLAT_HELPER_IMAGE: storeImage(installed),
  }
  return {
    dir,
    project: dir.slice(dir.lastIndexOf('/') + 1).toLowerCase(),
    dataDir,
    env,
    release: (version, compose) => writeCustomRelease(dataDir, version, compose),
  }
}

export function stackConfig(stack: TestStack) {
  return loadConfig(stack.env)
}

/** Removes the project's containers, volumes and networks (`down -v`, deploy profile included), and what its rehearsals left. */
export async function downStack(stack: TestStack): Promise<void> {
  await execa('docker-compose', ['-p', stack.project, '--project-directory', stack.dir, '-f', join(stack.dir, 'docker-compose.yml'), '--profile', 'deploy', 'down', '-v', '--remove-orphans', '-t', '1'], { reject: false })
  const docker = new Docker()
  const filters = { label: [`${REHEARSAL_OF_LABEL}=${stack.project}`] }
  for (const c of await docker.listContainers({ all: true, filters })) await docker.getContainer(c.Id).remove({ force: true }).catch(() => {})
  for (const n of await docker.listNetworks({ filters })) await docker.getNetwork(n.Id).remove().catch(() => {})
  for (const v of (await docker.listVolumes({ filters })).Volumes ?? []) await docker.getVolume(v.Name).remove().catch(() => {})
}

export async function containersByService(docker: Docker, project: string): Promise<Record<string, ServiceContainer>> {
  const out: Record<string, ServiceContainer> = {}
  for (const c of await projectContainers(docker, project)) out[c.service] = c
  return out
}

export async function imageId(docker: Docker, ref: string): Promise<string> {
  return (await docker.getImage(ref).inspect()).Id
}
