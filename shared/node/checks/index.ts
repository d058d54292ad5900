/**
 * The one check module: what the compose driver's preflight runs on the release it is about to
 * apply (refusing the update, before anything changes, when a blocking check fails) and what
 * `owlat doctor` runs on the installed stack (plus the network checks only doctor makes). Each
 * check is in `stack.ts` (from the compose model) or `host.ts` (ports, disk, admin key, network).
 * Node only.
 */
import { isAbsolute, join, resolve } from 'node:path'
import type Docker from 'dockerode'
import { backupBytes, listBackups } from '../backups'
import { checkAdminKey, checkDisk, checkPorts, deployCredentials, diskPlace, findTakenPorts, type DiskPlace } from './host'
import type { StackModel } from './model'
import { CONVEX_DATA_PATH, convexService, modelChecks, type StackRoles } from './stack'
import type { Check } from './types'

export * from './types'
export { parseStackModel, parseDuration, interpolate, type StackModel, type StackService } from './model'
export { checkDkimKeys, convexService, modelChecks, type StackRoles } from './stack'
export { checkPtr, checkSiteDns, checkSmtpEgress } from './host'
export * from './plan'

const PROJECT_LABEL = 'com.docker.compose.project'

export interface StackCheckInput {
  /** What will run: the release about to be applied, or the installed stack. */
  model: StackModel
  /** The project's `.env` (fallback for values the model does not show). */
  dotenv: Record<string, string>
  project: string
  owlatDir: string
  /** Engine client; null where there is none (then the engine-backed parts are skipped). */
  docker: Docker | null
  roles?: StackRoles
  /** The one-shot services `deploy-functions` runs for this release, in order. */
  deployServices: readonly string[]
  signal?: AbortSignal
}

/** Where the Convex data lives on the host, as far as this process can see it. */
async function convexDataPlace(input: StackCheckInput, notes: string[]): Promise<DiskPlace | null> {
  const convex = convexService(input.model, input.roles)
  const mount = convex?.mounts.find(m => m.target.replace(/\/+$/, '') === CONVEX_DATA_PATH)
  if (mount?.type === 'bind' && mount.source) {
    const path = isAbsolute(mount.source) ? mount.source : resolve(input.owlatDir, mount.source)
    const place = await diskPlace('Convex data', path)
    if (!place) notes.push(`cannot see ${path} from here`)
    return place
  }
  if (!input.docker) {
    notes.push('no engine to ask where Convex\'s data lives')
    return null
  }
  // A named volume (or none) lives on the engine's own disk, next to the images.
  let where: string | null = null
  if (mount?.type === 'volume' && mount.source) {
    for (const name of [`${input.project}_${mount.source}`, mount.source]) {
      where = await input.docker.getVolume(name).inspect().then(v => v.Mountpoint as string, () => null)
      if (where) break
    }
  }
  const place = where ? await diskPlace('Convex data', where) : null
  if (place) return place
  const root = await input.docker.info().then(i => (i as { DockerRootDir?: string }).DockerRootDir ?? null, () => null)
  const rootPlace = root ? await diskPlace('the engine\'s disk', root) : null
  if (!rootPlace) notes.push('the engine\'s disk is not visible from here')
  return rootPlace
}

/** What the stack's running images take: the estimate of what the new ones add. */
export async function runningImageBytes(docker: Docker | null, project: string): Promise<number> {
  if (!docker) return 0
  const containers = await docker.listContainers({ filters: { label: [`${PROJECT_LABEL}=${project}`] } })
  const sizes = await Promise.all([...new Set(containers.map(c => c.ImageID))].map(id => docker.getImage(id).inspect().then(i => i.Size, () => 0)))
  return sizes.reduce((a, b) => a + b, 0)
}

/** What an update writes beside what runs: the new images (the running ones' size) and a backup (the newest one's). */
export async function updateNeedBytes(docker: Docker | null, project: string, owlatDir: string): Promise<number> {
  const newest = listBackups(join(owlatDir, 'backups'))[0]
  return (newest ? backupBytes(newest.manifest) : 0) + await runningImageBytes(docker, project)
}

/** Every check that judges the stack for an update (and for doctor), in a fixed order. */
export async function stackChecks(input: StackCheckInput): Promise<Check[]> {
  const checks = modelChecks(input.model, input.dotenv, input.roles)
  checks.push(checkPorts(input.model, await findTakenPorts(input.model, input.project, input.docker)))
  const notes: string[] = []
  const backupsDir = join(input.owlatDir, 'backups')
  const newest = listBackups(backupsDir)[0]
  const backupsPlace = (await diskPlace('backups', backupsDir)) ?? (await diskPlace('backups', input.owlatDir))
  checks.push(checkDisk(
    { data: await convexDataPlace(input, notes), backups: backupsPlace },
    { backupBytes: newest ? backupBytes(newest.manifest) : 0, imageBytes: await runningImageBytes(input.docker, input.project) },
    notes,
  ))
  checks.push(await checkAdminKey(deployCredentials(input.model, input.deployServices), input.deployServices.length > 0, input.signal))
  return checks
}
