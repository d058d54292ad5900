/**
 * The Docker Engine API (dockerode) as the compose driver uses it: the stack's state comes from
 * the labels compose puts on what it creates (`com.docker.compose.project`/`.service`), never
 * from the text of `docker compose ps`. Connection follows DOCKER_HOST like the compose CLI does
 * (a socket proxy in production, the local socket otherwise).
 */
import { createReadStream, createWriteStream } from 'node:fs'
import { statfs } from 'node:fs/promises'
import { PassThrough, Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import Docker from 'dockerode'

export const PROJECT_LABEL = 'com.docker.compose.project'
export const SERVICE_LABEL = 'com.docker.compose.service'
export const ONEOFF_LABEL = 'com.docker.compose.oneoff'
export const VOLUME_LABEL = 'com.docker.compose.volume'
/** Put on every container the updater itself creates, so they are found (and cleaned) by label. */
export const HELPER_LABEL = 'io.owlat.updater.helper'

export type HealthState = 'healthy' | 'unhealthy' | 'starting' | 'none'

/** One service container of the project, as the engine reports it. */
export interface ServiceContainer {
  id: string
  name: string
  service: string
  /** Image reference the container was created from (as written in the compose file). */
  image: string
  /** Image ID (`sha256:…`) the container runs. */
  imageId: string
  /** `running`, `exited`, `restarting`, `created`… */
  state: string
  running: boolean
  health: HealthState
  /** Last healthcheck output, for failure messages. */
  healthLog: string | null
  exitCode: number
}

export function connectEngine(): Docker {
  // Without options dockerode reads DOCKER_HOST (unix://, tcp://) or uses /var/run/docker.sock.
  return new Docker()
}

export interface EngineInfo {
  version: string
  apiVersion: string
}

/** Throws a readable error when the engine does not answer. */
export async function engineInfo(docker: Docker): Promise<EngineInfo> {
  try {
    await docker.ping()
    const version = await docker.version()
    return { version: version.Version, apiVersion: version.ApiVersion }
  }
  catch (err) {
    const where = process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock'
    throw new Error(`the Docker engine at ${where} does not answer: ${(err as Error).message}`, { cause: err })
  }
}

function healthOf(state: { Health?: { Status?: string, Log?: Array<{ Output?: string }> } }): { health: HealthState, log: string | null } {
  const status = state.Health?.Status
  const last = state.Health?.Log?.at(-1)?.Output?.trim() || null
  if (status === 'healthy' || status === 'unhealthy' || status === 'starting') return { health: status, log: last }
  return { health: 'none', log: null }
}

/** Every service container of `project` (one-off `run` containers left out), inspected. */
export async function projectContainers(docker: Docker, project: string): Promise<ServiceContainer[]> {
  const list = await docker.listContainers({ all: true, filters: { label: [`${PROJECT_LABEL}=${project}`] } })
  const services = list.filter(c => c.Labels[ONEOFF_LABEL] !== 'True' && c.Labels[SERVICE_LABEL])
  const inspected = await Promise.all(services.map(async (c) => {
    try {
      return await docker.getContainer(c.Id).inspect()
    }
    catch {
      // Removed between the list and the inspect (compose is recreating it).
      return null
    }
  }))
  return inspected.filter(c => c !== null).map((c) => {
    const { health, log } = healthOf(c.State as Parameters<typeof healthOf>[0])
    return {
      id: c.Id,
      name: c.Name.replace(/^\//, ''),
      service: c.Config.Labels[SERVICE_LABEL]!,
      image: c.Config.Image,
      imageId: c.Image,
      state: c.State.Status,
      running: c.State.Running,
      health,
      healthLog: log,
      exitCode: c.State.ExitCode,
    }
  }).sort((a, b) => a.service.localeCompare(b.service))
}

/** Image ID of a local image reference, or null when the engine does not have it. */
export async function localImageId(docker: Docker, ref: string): Promise<string | null> {
  try {
    return (await docker.getImage(ref).inspect()).Id
  }
  catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) return null
    throw err
  }
}

/** Pulls `ref` through the engine unless it is present already. */
export async function ensureImage(docker: Docker, ref: string): Promise<string> {
  const present = await localImageId(docker, ref)
  if (present) return present
  const stream = await docker.pull(ref)
  await new Promise<void>((resolve, reject) => {
    docker.modem.followProgress(stream, (err: Error | null, events: Array<{ error?: string }>) => {
      const failed = events?.find(e => e.error)
      if (err || failed) reject(new Error(`pulling ${ref} failed: ${err?.message ?? failed?.error}`))
      else resolve()
    })
  })
  const pulled = await localImageId(docker, ref)
  if (!pulled) throw new Error(`pulling ${ref} did not produce a local image`)
  return pulled
}

export interface ProjectVolume {
  /** Engine name, e.g. `owlat_convex-data`. */
  name: string
  /** Name in the compose file, e.g. `convex-data`. */
  composeName: string
}

/** Named volumes compose created for `project` (external volumes carry no project label and are left out). */
export async function projectVolumes(docker: Docker, project: string): Promise<ProjectVolume[]> {
  const { Volumes } = await docker.listVolumes({ filters: { label: [`${PROJECT_LABEL}=${project}`] } })
  return (Volumes ?? [])
    .map(v => ({ name: v.Name, composeName: v.Labels?.[VOLUME_LABEL] ?? v.Name }))
    .sort((a, b) => a.name.localeCompare(b.name))
}

/** Output of a command run inside a running container through the Engine API. */
export async function execIn(docker: Docker, containerId: string, cmd: string[], env?: Record<string, string>): Promise<{ exitCode: number, stdout: string, stderr: string }> {
  const Env = env ? Object.entries(env).map(([k, v]) => `${k}=${v}`) : undefined
  const exec = await docker.getContainer(containerId).exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true, Env })
  const stream = await exec.start({ hijack: true, stdin: false })
  const stdout: Buffer[] = []
  const stderr: Buffer[] = []
  const sink = (into: Buffer[]) => new Writable({
    write(chunk: Buffer, _enc, done) {
      into.push(chunk)
      done()
    },
  })
  await new Promise<void>((resolve, reject) => {
    docker.modem.demuxStream(stream, sink(stdout), sink(stderr))
    stream.on('end', () => resolve())
    stream.on('error', reject)
  })
  const { ExitCode } = await exec.inspect()
  return { exitCode: ExitCode ?? -1, stdout: Buffer.concat(stdout).toString('utf8'), stderr: Buffer.concat(stderr).toString('utf8') }
}

/** Bytes as whole MiB, for the disk figures the steps log. */
export function mib(bytes: number): string {
  return `${Math.floor(bytes / (1024 * 1024))} MiB`
}

/** Bytes available to an unprivileged writer on the filesystem holding `path`. */
export async function freeBytes(path: string): Promise<number> {
  const stats = await statfs(path)
  return stats.bavail * stats.bsize
}

/**
 * Creates (never starts) a one-shot container with `volumes` mounted read-only under `/backup`,
 * and streams each mount out through the engine's archive endpoint into `<dir>/<volume>.tar`.
 * No host path is bind-mounted, so this works the same when the updater itself runs in a
 * container (the archive travels through the API, not through a shared folder).
 */
export async function archiveVolumes(docker: Docker, opts: { image: string, volumes: string[], dir: string, jobId: string }): Promise<Array<{ volume: string, path: string, bytes: number }>> {
  const container = await docker.createContainer({
    Image: opts.image,
    // Never run; a command is still required when the image has none.
    Cmd: ['true'],
    Labels: { [HELPER_LABEL]: 'backup', 'io.owlat.updater.job': opts.jobId },
    HostConfig: { NetworkMode: 'none', Binds: opts.volumes.map(v => `${v}:/backup/${v}:ro`) },
  })
  try {
    const results: Array<{ volume: string, path: string, bytes: number }> = []
    for (const volume of opts.volumes) {
      const path = `${opts.dir}/${volume}.tar`
      const archive = await container.getArchive({ path: `/backup/${volume}` })
      let bytes = 0
      const counter = new PassThrough()
      counter.on('data', (chunk: Buffer) => (bytes += chunk.length))
      await pipeline(archive, counter, createWriteStream(path))
      results.push({ volume, path, bytes })
    }
    return results
  }
  finally {
    await container.remove({ force: true }).catch(() => {})
  }
}

/**
 * A non-TTY container's log as text: the engine frames it as [stream, 0, 0, 0, size(4, BE)]
 * followed by `size` bytes, per chunk.
 */
export function demuxed(framed: Buffer): string {
  const parts: Buffer[] = []
  let at = 0
  while (at + 8 <= framed.length) {
    const size = framed.readUInt32BE(at + 4)
    parts.push(framed.subarray(at + 8, at + 8 + size))
    at += 8 + size
  }
  return Buffer.concat(parts).toString('utf8')
}

/** Runs a one-shot container to completion and removes it; throws with its output when it fails. */
export async function runOneShot(docker: Docker, opts: { image: string, cmd: string[], binds: string[], purpose: string }): Promise<void> {
  const container = await docker.createContainer({
    Image: opts.image,
    Cmd: opts.cmd,
    Labels: { [HELPER_LABEL]: opts.purpose },
    HostConfig: { NetworkMode: 'none', Binds: opts.binds },
  })
  try {
    await container.start()
    const { StatusCode } = await container.wait() as { StatusCode: number }
    if (StatusCode !== 0) {
      const logs = demuxed(await container.logs({ stdout: true, stderr: true, tail: 20 })).trim()
      throw new Error(`${opts.cmd.join(' ')} exited with ${StatusCode}${logs ? `: ${logs}` : ''}`)
    }
  }
  finally {
    await container.remove({ force: true }).catch(() => {})
  }
}

/**
 * Puts a volume back as `archiveVolumes` saved it: empties it in a one-shot container, then
 * extracts the archive into it through the engine. Refuses while a running container uses the
 * volume, since files changing under the restore would leave a mix of both states.
 */
export async function restoreVolume(docker: Docker, opts: { image: string, volume: string, archive: string, /** The volume the archive was taken of, when it goes into another one (a rehearsal's copy). */ from?: string }): Promise<void> {
  const users = await docker.listContainers({ filters: { volume: [opts.volume], status: ['running'] } })
  if (users.length > 0) {
    throw new Error(`volume ${opts.volume} is in use by running ${users.map(u => u.Names[0]?.replace(/^\//, '')).join(', ')}; stop the stack first`)
  }
  // The archive's entries start with the name of the volume it was taken of.
  const mount = `/restore/${opts.from ?? opts.volume}`
  // find's -delete is missing from some busybox builds; -exec rm is in every find.
  const empty = ['find', mount, '-mindepth', '1', '-maxdepth', '1', '-exec', 'rm', '-rf', '{}', '+']
  await runOneShot(docker, { image: opts.image, cmd: empty, binds: [`${opts.volume}:${mount}`], purpose: 'restore' })
  const container = await docker.createContainer({
    Image: opts.image,
    Cmd: ['true'],
    Labels: { [HELPER_LABEL]: 'restore' },
    HostConfig: { NetworkMode: 'none', Binds: [`${opts.volume}:${mount}`] },
  })
  try {
    // The archive's entries start with the volume's folder name, so extracting at /restore lands in the mount.
    await container.putArchive(createReadStream(opts.archive), { path: '/restore' })
  }
  finally {
    await container.remove({ force: true }).catch(() => {})
  }
}
