/**
 * What the `swarm` driver reads from a release's compose file and what it hands `docker stack
 * deploy`: each service's image, replicas and mode, and the file with Swarm's own update policy
 * filled in. The release's file itself stays as signed (stage/promote keep it byte for byte); the
 * deployed copy only adds what the release left out, and keeps the updater on the image it runs.
 */
import { parseDocument, stringify } from 'yaml'
import { MAX_ALIAS_COUNT } from '../../shared/compose-policy'

export interface SwarmServiceModel {
  image: string | null
  /** How many tasks Swarm must run: `deploy.replicas` (default 1); null for `deploy.mode: global` (one per node). */
  replicas: number | null
  /** Services under a compose profile: `docker stack deploy` does not know profiles, so they are left out. */
  profiles: string[]
}

export interface SwarmModel {
  services: Map<string, SwarmServiceModel>
}

type Dict = Record<string, unknown>
const isDict = (value: unknown): value is Dict => typeof value === 'object' && value !== null && !Array.isArray(value)

function parse(text: string): Dict & { services: Record<string, unknown> } {
  const doc = parseDocument(text, { merge: true })
  if (doc.errors.length > 0) throw new Error(`compose file is not valid YAML: ${doc.errors[0]!.message.split('\n')[0]}`)
  const js: unknown = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT })
  if (!isDict(js) || !isDict(js.services)) throw new Error('compose file has no services section')
  return js as Dict & { services: Record<string, unknown> }
}

export function parseSwarmModel(text: string): SwarmModel {
  const services = new Map<string, SwarmServiceModel>()
  for (const [name, service] of Object.entries(parse(text).services)) {
    if (!isDict(service)) continue
    const deploy = isDict(service.deploy) ? service.deploy : {}
    const global = deploy.mode === 'global'
    const replicas = global ? null : deploy.replicas === undefined ? 1 : Number(deploy.replicas)
    if (replicas !== null && (!Number.isInteger(replicas) || replicas < 0)) throw new Error(`service ${name}: deploy.replicas ${String(deploy.replicas)} is not a whole number`)
    services.set(name, {
      image: typeof service.image === 'string' ? service.image : null,
      replicas,
      profiles: Array.isArray(service.profiles) ? service.profiles.map(String) : [],
    })
  }
  return { services }
}

/** The services a stack deploy runs: those without profiles. */
export function stackServices(model: SwarmModel): string[] {
  return [...model.services].filter(([, s]) => s.profiles.length === 0).map(([name]) => name).sort()
}

export type UpdateOrder = 'start-first' | 'stop-first'

/**
 * Start-first (the new task runs beside the old one until it is healthy) where two copies of the
 * service can run at once. Not for a service that publishes a port in host mode (the second copy
 * could not bind it on the same node) or mounts a named volume (two copies would write one store).
 */
export function updateOrder(service: Dict): { order: UpdateOrder, why: string } {
  const ports = Array.isArray(service.ports) ? service.ports : []
  if (ports.some(p => isDict(p) && p.mode === 'host')) return { order: 'stop-first', why: 'it publishes a port in host mode' }
  const volumes = Array.isArray(service.volumes) ? service.volumes : []
  const named = volumes.some((v) => {
    if (isDict(v)) return v.type === 'volume' || (v.type === undefined && typeof v.source === 'string' && !/^[./~]/.test(v.source))
    const source = String(v).split(':')[0]!
    return String(v).includes(':') && !/^[./~$]/.test(source)
  })
  if (named) return { order: 'stop-first', why: 'it mounts a named volume' }
  return { order: 'start-first', why: 'two copies can run side by side' }
}

/** The stack file format every docker CLI that deploys stacks reads (3.8: Docker 19.03 and later). */
export const STACK_FILE_VERSION = '3.8'

export interface DeployFileOptions {
  /** The updater's own service: it keeps `updaterImage` (the one running) so a job never replaces it mid-way. */
  updaterService: string
  updaterImage: string | null
  /** How long Swarm watches each new task before the next one (`update_config.monitor`). */
  monitor: string
}

export interface DeployFile {
  text: string
  /** One line per service: its update order and why, for the step's log. */
  notes: string[]
}

/**
 * The file `docker stack deploy` gets: the release's, without profiled services, each service's
 * `deploy.update_config` completed with Swarm's health-gated rolling update (the order above,
 * `failure_action: rollback`, the monitor) and its `rollback_config` in the same order. What the
 * release sets itself wins, except `failure_action`: a failed update always rolls back.
 */
export function deployFile(text: string, opts: DeployFileOptions): DeployFile {
  const doc = parse(text)
  const notes: string[] = []
  const services: Record<string, unknown> = {}
  for (const [name, raw] of Object.entries(doc.services)) {
    if (!isDict(raw)) continue
    if (Array.isArray(raw.profiles) && raw.profiles.length > 0) {
      notes.push(`${name}: left out (profiles ${raw.profiles.join(', ')}; a stack runs no profiled services)`)
      continue
    }
    const { profiles: _profiles, ...service } = raw
    const deploy = isDict(service.deploy) ? { ...service.deploy } : {}
    const own = isDict(deploy.update_config) ? deploy.update_config : {}
    const chosen = updateOrder(service)
    const order = own.order === 'start-first' || own.order === 'stop-first' ? own.order : chosen.order
    // Start-first replaces every task at once (0: all): the old ones serve until all new ones are
    // healthy, so old and new answer side by side only briefly. Stop-first goes one task at a time.
    const parallelism = order === 'start-first' ? 0 : 1
    deploy.update_config = { parallelism, monitor: opts.monitor, ...own, order, failure_action: 'rollback' }
    deploy.rollback_config = { parallelism, monitor: opts.monitor, ...(isDict(deploy.rollback_config) ? deploy.rollback_config : {}), order }
    if (name === opts.updaterService && opts.updaterImage) {
      notes.push(`${name}: stays on ${opts.updaterImage} during the job (it moves to ${String(service.image)} after the commit)`)
      service.image = opts.updaterImage
    }
    else {
      notes.push(`${name}: ${order}${own.order ? ' (the release\'s own)' : ` (${chosen.why})`}, ${parallelism === 0 ? 'all tasks at once' : 'one task at a time'}, health-gated, failure_action rollback`)
    }
    services[name] = { ...service, deploy }
  }
  // A docker CLI before 25 refuses a file without a 3.x version (the Compose Specification dropped the key).
  return { text: stringify({ version: STACK_FILE_VERSION, ...doc, services }), notes }
}

/** `repo:tag@sha256:…` → its parts; the tag follows the last ':' after the last '/'. */
function imageParts(ref: string): { name: string, tag: string | null, digest: string | null } {
  const [withoutDigest, digest] = ref.split('@') as [string, string | undefined]
  const slash = withoutDigest.lastIndexOf('/')
  const colon = withoutDigest.lastIndexOf(':')
  if (colon > slash) return { name: withoutDigest.slice(0, colon), tag: withoutDigest.slice(colon + 1), digest: digest ?? null }
  return { name: withoutDigest, tag: null, digest: digest ?? null }
}

/**
 * Whether a task's image (Swarm pins `repo:tag@sha256:…` at deploy) is the one a file names:
 * same repository, the same digest where the file pins one, the same tag where it names one.
 */
export function imageMatches(running: string, pinned: string): boolean {
  const a = imageParts(running)
  const b = imageParts(pinned)
  if (a.name !== b.name) return false
  if (b.digest && a.digest !== b.digest) return false
  if (b.tag && a.tag !== b.tag) return false
  return true
}
