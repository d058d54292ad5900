/**
 * Updating the updater itself. It cannot recreate its own container (it would die half-way),
 * so after a job has committed it starts a one-shot helper container from its NEW image that
 * runs `compose up -d --no-deps <updater>` on its behalf and outlives it. The helper borrows the
 * updater's mounts (`VolumesFrom`: the project folder, its data volume), environment
 * (DOCKER_HOST of the socket proxy, OWLAT_DIR) and network, so it sees what the updater sees.
 * This relies on the project folder being mounted at the same path as on the host (deploy/
 * mounts `.` at /opt/owlat), since compose hands relative bind sources to the engine as host paths.
 */
import type Docker from 'dockerode'
import { runnableImage, type BundledImages } from './bundled-images'
import { fileArgs } from './compose-cli'
import { HELPER_LABEL, localImageId, projectContainers } from './docker-engine'

export const SELF_UPDATE_PURPOSE = 'self-update'

export interface SelfUpdateOptions {
  project: string
  projectDir: string
  /** The current compose file (already committed). */
  file: string
  service: string
  /** Pinned image of the updater service in that file. */
  image: string
  /** Compose CLI argv inside the updater image, e.g. `['docker', 'compose']`. */
  composeArgv: string[]
  /** Images offline bundles loaded: the helper runs from there, and so does the new updater. */
  bundledImages?: BundledImages
}

export type SelfUpdateResult
  = | { launched: false, reason: string }
    | { launched: true, containerId: string, from: string, to: string }

export async function launchSelfUpdate(docker: Docker, opts: SelfUpdateOptions): Promise<SelfUpdateResult> {
  const own = (await projectContainers(docker, opts.project)).find(c => c.service === opts.service && c.running)
  if (!own) return { launched: false, reason: `no running ${opts.service} service in project ${opts.project}` }
  const images = opts.bundledImages ?? new Map<string, string>()
  const pinnedId = await localImageId(docker, runnableImage(opts.image, images))
  if (!pinnedId) return { launched: false, reason: `the pinned updater image ${opts.image} is not present (it is pulled with the stack)` }
  if (pinnedId === own.imageId) return { launched: false, reason: `${opts.service} already runs ${opts.image}` }

  // A helper from an earlier update that already finished is only clutter now.
  const stale = await docker.listContainers({ all: true, filters: { label: [`${HELPER_LABEL}=${SELF_UPDATE_PURPOSE}`], status: ['exited', 'created', 'dead'] } })
  for (const c of stale) await docker.getContainer(c.Id).remove({ force: true }).catch(() => {})

  const inspected = await docker.getContainer(own.id).inspect()
  const network = Object.keys(inspected.NetworkSettings.Networks ?? {})[0] ?? inspected.HostConfig.NetworkMode ?? 'none'
  const [bin, ...prefix] = opts.composeArgv
  const helper = await docker.createContainer({
    Image: runnableImage(opts.image, images),
    Entrypoint: [bin!],
    Cmd: [...prefix, '-p', opts.project, '--project-directory', opts.projectDir, ...fileArgs(opts.file, opts.projectDir, images), 'up', '-d', '--no-deps', opts.service],
    Env: inspected.Config.Env,
    WorkingDir: opts.projectDir,
    Labels: { [HELPER_LABEL]: SELF_UPDATE_PURPOSE, 'io.owlat.updater.from': own.image, 'io.owlat.updater.to': opts.image },
    HostConfig: { VolumesFrom: [own.id], NetworkMode: network },
  })
  await helper.start()
  return { launched: true, containerId: helper.id, from: own.image, to: opts.image }
}
