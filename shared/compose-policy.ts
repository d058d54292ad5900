/**
 * Compose policy: what a release's compose file may ask the container engine for. The updater
 * runs next to the engine with full control of it, so a compose file is the one input that
 * could turn a signed-but-compromised release (or a hand edit) into root on the host. One module
 * for every process: the web before a release is offered and before dispatch, the sidecar at
 * admission and in the compose driver's preflight (there also on `compose config`'s rendering of
 * the file, see sidecar/drivers/compose-config.ts), the CLI in `compose check`, `release verify`,
 * `doctor` and when it lists releases. Node only.
 *
 * It judges what compose will run, not the text: YAML merge keys are merged, a same-file
 * `extends` is resolved into the service, `volumes_from` brings the other service's mounts along,
 * and a value compose would interpolate (`${X:-host}`) is refused wherever the policy reads it,
 * because what it becomes depends on an environment this check cannot see. Values the policy does
 * not read (environment, ports, commands) may interpolate freely.
 *
 * Every violation is reported (not just the first) so an operator fixes a file in one pass.
 */
import { homedir } from 'node:os'
import { posix } from 'node:path'
import { parseDocument } from 'yaml'

/**
 * Repositories a service's image may come from. An entry ending in `/` allows a whole
 * namespace (`ghcr.io/owlat/` → `ghcr.io/owlat/web`); any other entry allows exactly one
 * repository (`redis` → Docker Hub's official `redis`, any tag or digest).
 */
export const DEFAULT_ALLOWED_IMAGE_PREFIXES: readonly string[] = [
  'ghcr.io/owlat/',
  'ghcr.io/get-convex/',
  'redis',
  'clamav/clamav',
  'tecnativa/docker-socket-proxy',
]

/** Host paths bind mounts may use; relative entries are taken from the project folder. */
export const DEFAULT_ALLOWED_BIND_PREFIXES: readonly string[] = ['.']

/**
 * Capabilities a service may add: Docker's default set (moby's `DefaultCapabilities`), which
 * every container has unless it drops them, so adding one back after `cap_drop: [ALL]` grants
 * nothing a default container lacks. Anything beyond it (SYS_ADMIN, NET_ADMIN, SYS_PTRACE,
 * SYS_MODULE, BPF …) is refused, and so is ALL, whatever the allow-list says.
 */
export const DEFAULT_ALLOWED_CAPABILITIES: readonly string[] = [
  'AUDIT_WRITE', 'CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'KILL', 'MKNOD', 'NET_BIND_SERVICE',
  'NET_RAW', 'SETFCAP', 'SETGID', 'SETPCAP', 'SETUID', 'SYS_CHROOT',
]

/** The only service allowed to mount the Docker socket; everything else talks to the engine through it. */
export const DEFAULT_SOCKET_PROXY_SERVICE = 'docker-socket-proxy'

export const DOCKER_SOCKET_PATHS: readonly string[] = ['/var/run/docker.sock', '/run/docker.sock']

/** Compose files are small; a handful of anchors is plenty and bounds "billion laughs" input. */
export const MAX_ALIAS_COUNT = 50
/** Same bound as the compose text a job may carry. */
export const MAX_COMPOSE_BYTES = 1_000_000

export interface ComposePolicyOptions {
  /** Folder the compose file is deployed in: relative bind sources resolve against it. */
  projectDir: string
  allowedImagePrefixes?: readonly string[]
  allowedBindPrefixes?: readonly string[]
  allowedCapabilities?: readonly string[]
  socketProxyService?: string
  /** Services allowed `deploy.mode: global` (a task on every node of a swarm, new ones included). */
  globalServices?: readonly string[]
}

export interface ComposePolicyResult {
  ok: boolean
  violations: string[]
}

/** `CAP_sys_admin` → `SYS_ADMIN`: the engine accepts any case, with or without the prefix. */
export function normaliseCapability(cap: string): string {
  return cap.trim().toUpperCase().replace(/^CAP_/, '')
}

/**
 * `OWLAT_ALLOWED_IMAGE_PREFIXES` / `OWLAT_ALLOWED_BIND_PREFIXES` / `OWLAT_ALLOWED_CAPABILITIES`
 * (comma separated) replace the defaults.
 */
export function composePolicyOptionsFromEnv(env: NodeJS.ProcessEnv, projectDir: string): ComposePolicyOptions {
  const list = (value: string | undefined) => {
    const items = (value ?? '').split(',').map(s => s.trim()).filter(Boolean)
    return items.length > 0 ? items : undefined
  }
  return {
    projectDir,
    allowedImagePrefixes: list(env.OWLAT_ALLOWED_IMAGE_PREFIXES) ?? DEFAULT_ALLOWED_IMAGE_PREFIXES,
    allowedBindPrefixes: list(env.OWLAT_ALLOWED_BIND_PREFIXES) ?? DEFAULT_ALLOWED_BIND_PREFIXES,
    allowedCapabilities: list(env.OWLAT_ALLOWED_CAPABILITIES)?.map(normaliseCapability) ?? DEFAULT_ALLOWED_CAPABILITIES,
    globalServices: list(env.OWLAT_SWARM_GLOBAL_SERVICES) ?? [],
  }
}

/** The one way a refusal reads, wherever the policy refuses a release (web, sidecar, CLI). */
export function describePolicyViolations(violations: readonly string[]): string {
  return `compose file violates the compose policy: ${violations.join('; ')}`
}

type Dict = Record<string, unknown>

function isDict(value: unknown): value is Dict {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** `redis:7` → `docker.io/library/redis`; `ghcr.io/owlat/web:1.3.0@sha256:…` → `ghcr.io/owlat/web`. */
export function imageRepository(image: string): string {
  const withoutDigest = image.split('@')[0]!
  const lastSlash = withoutDigest.lastIndexOf('/')
  const colon = withoutDigest.lastIndexOf(':')
  // A ':' before the last '/' is a registry port, not a tag.
  const name = colon > lastSlash ? withoutDigest.slice(0, colon) : withoutDigest
  const parts = name.split('/')
  const first = parts[0]!
  const hasRegistry = parts.length > 1 && (first.includes('.') || first.includes(':') || first === 'localhost')
  if (hasRegistry) return name
  return parts.length === 1 ? `docker.io/library/${name}` : `docker.io/${name}`
}

// Lowercase path components, optional registry host:port, optional tag and digest (Docker's reference grammar, simplified).
const IMAGE_REFERENCE = /^[a-z0-9]+(?:[._-][a-z0-9]+)*(?::\d+)?(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::\w[\w.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$/

function imageAllowed(image: string, prefixes: readonly string[]): boolean {
  const repo = imageRepository(image)
  return prefixes.some((entry) => {
    if (entry.endsWith('/')) return repo.startsWith(`${imageRepository(entry.slice(0, -1))}/`)
    return repo === imageRepository(entry)
  })
}

function isUnder(path: string, prefix: string): boolean {
  return path === prefix || path.startsWith(prefix.endsWith('/') ? prefix : `${prefix}/`)
}

// ---------------------------------------------------------------------------------------------
// Interpolation. Compose replaces `$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR?err}` … in every
// value (`$$` is a literal `$`). Each such expression is swapped for an opaque marker before any
// rule runs, so a rule that reads a value sees exactly which part of it compose would fill in
// (the source of `${DATA}:/data`, but not the target of `.:${DIR}`), and `$$` becomes `$`.

const MARK_OPEN = '\uE000'
const MARK_CLOSE = '\uE001'
const MARKER = /\uE000(\d+)\uE001/g

class Interpolations {
  readonly expressions: string[] = []

  mark(expression: string): string {
    this.expressions.push(expression)
    return `${MARK_OPEN}${this.expressions.length - 1}${MARK_CLOSE}`
  }

  /** The value as written, for messages. */
  display(value: string): string {
    return value.replace(MARKER, (_, i: string) => this.expressions[Number(i)] ?? '$')
  }

  /** Marks every expression compose would interpolate in `text`. */
  scan(text: string): string {
    // A value that already holds our marker characters is taken as unknowable as a whole.
    if (text.includes(MARK_OPEN) || text.includes(MARK_CLOSE)) return this.mark(text.replaceAll(MARK_OPEN, '').replaceAll(MARK_CLOSE, ''))
    let out = ''
    let i = 0
    while (i < text.length) {
      const c = text[i]!
      if (c !== '$') {
        out += c
        i++
        continue
      }
      const next = text[i + 1]
      if (next === '$') {
        out += '$'
        i += 2
        continue
      }
      if (next === '{') {
        // Nested `${A:-${B}}` is one expression; an unclosed one runs to the end (compose refuses it).
        let depth = 0
        let end = i + 1
        for (; end < text.length; end++) {
          if (text[end] === '{') depth++
          else if (text[end] === '}' && --depth === 0) break
        }
        out += this.mark(text.slice(i, end + 1))
        i = end + 1
        continue
      }
      const name = /^[A-Za-z_]\w*/.exec(text.slice(i + 1))
      // A `$` compose cannot read is an error there; here it is unknowable like any other.
      const length = name ? name[0].length + 1 : 1
      out += this.mark(text.slice(i, i + length))
      i += length
    }
    return out
  }

  /** Every string value of a parsed document (not the keys: compose does not interpolate those). */
  walk(value: unknown): unknown {
    if (typeof value === 'string') return this.scan(value)
    if (Array.isArray(value)) return value.map(v => this.walk(v))
    if (isDict(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, this.walk(v)]))
    return value
  }
}

function interpolated(value: unknown): value is string {
  return typeof value === 'string' && value.includes(MARK_OPEN)
}

interface Context {
  projectDir: string
  imagePrefixes: readonly string[]
  bindPrefixes: string[]
  capabilities: Set<string>
  socketProxyService: string
  globalServices: Set<string>
  /** The file's top-level networks: one that is the host's own network counts as `network_mode: host`. */
  networks: Dict
  violations: string[]
  vars: Interpolations
  /** Services as written; `resolved` holds them with their `extends` merged in. */
  services: Dict
  resolved: Map<string, Dict>
}

function refuseInterpolation(ctx: Context, owner: string, what: string, value: string): void {
  ctx.violations.push(`${owner}: ${what} "${ctx.vars.display(value)}" uses variable interpolation, so what compose runs cannot be checked (write the value literally)`)
}

/** Host path as the engine will see it. */
function resolveHostPath(source: string, ctx: Context): string {
  if (source === '~' || source.startsWith('~/')) return posix.resolve(homedir(), `.${source.slice(1)}`)
  return posix.resolve(ctx.projectDir, source)
}

/** Checks one host path a service (or volume, secret, config) would expose to a container. */
function checkHostPath(owner: string, what: string, source: string, ctx: Context, socketAllowed: boolean): void {
  if (interpolated(source)) {
    refuseInterpolation(ctx, owner, what, source)
    return
  }
  const resolved = resolveHostPath(source, ctx)
  const shown = ctx.vars.display(source)
  const isSocket = DOCKER_SOCKET_PATHS.includes(resolved)
  if (isSocket) {
    if (!socketAllowed) {
      ctx.violations.push(`${owner}: ${what} mounts the Docker socket ${resolved}; only the "${ctx.socketProxyService}" service may (it gives root on the host)`)
    }
    return
  }
  if (DOCKER_SOCKET_PATHS.some(socket => isUnder(socket, resolved))) {
    ctx.violations.push(`${owner}: ${what} "${shown}" mounts ${resolved}, which contains the Docker socket (it gives root on the host)`)
    return
  }
  if (!ctx.bindPrefixes.some(prefix => isUnder(resolved, prefix))) {
    ctx.violations.push(`${owner}: ${what} "${shown}" mounts host path ${resolved}, outside the allowed folders (${ctx.bindPrefixes.join(', ')})`)
  }
}

/**
 * Short syntax `SOURCE:TARGET[:MODE]`: a source starting with `.`, `/` or `~` is a host path,
 * anything else a named volume; one compose fills in could be either, so it is returned to be refused.
 */
function shortVolumeSource(spec: string): string | null {
  const parts = spec.split(':')
  if (parts.length < 2) return null // anonymous volume: just a container path
  const source = parts[0]!
  return /^[./~]/.test(source) || interpolated(source) ? source : null
}

/** One mount a service gets: its own, or one `volumes_from` brings along (`via` names that service). */
interface Mount {
  volume: unknown
  via: string | null
}

function checkMounts(name: string, mounts: Mount[], ctx: Context): void {
  const owner = `service ${name}`
  const socketAllowed = name === ctx.socketProxyService
  for (const { volume, via } of mounts) {
    const what = via ? `volumes_from ${via}: bind mount` : 'bind mount'
    if (typeof volume === 'string') {
      const source = shortVolumeSource(volume)
      if (source !== null) checkHostPath(owner, what, source, ctx, socketAllowed)
      continue
    }
    if (!isDict(volume)) {
      ctx.violations.push(`${owner}: volume entry ${JSON.stringify(volume)} is neither a string nor a mapping`)
      continue
    }
    if (interpolated(volume.type)) {
      refuseInterpolation(ctx, owner, 'volume type', volume.type)
      continue
    }
    const source = volume.source
    const type = volume.type ?? (typeof source === 'string' && (/^[./~]/.test(source) || interpolated(source)) ? 'bind' : 'volume')
    if (type === 'bind') {
      if (typeof source !== 'string' || source === '') {
        ctx.violations.push(`${owner}: bind mount has no source`)
        continue
      }
      checkHostPath(owner, what, source, ctx, socketAllowed)
    }
    else if (type === 'npipe' && !socketAllowed) {
      ctx.violations.push(`${owner}: npipe mounts reach the engine's named pipe; only the "${ctx.socketProxyService}" service may`)
    }
    else if (!['volume', 'tmpfs', 'npipe', 'cluster', 'image'].includes(String(type))) {
      ctx.violations.push(`${owner}: volume type "${String(type)}" is not known`)
    }
  }
}

/** `x`, `x:ro`, `service:x[:rw]` → service x; `container:y[:ro]` → a container outside the file. */
function parseVolumesFrom(entry: string): { kind: 'service' | 'container', name: string } {
  const parts = entry.split(':')
  if (parts[0] === 'container') return { kind: 'container', name: parts[1] ?? '' }
  if (parts[0] === 'service') return { kind: 'service', name: parts[1] ?? '' }
  return { kind: 'service', name: parts[0]! }
}

/** The service's own mounts, then those of each service it takes `volumes_from` (and theirs, transitively). */
function mountsOf(name: string, ctx: Context, seen: Set<string> = new Set()): Mount[] {
  const owner = `service ${[...seen][0] ?? name}`
  seen.add(name)
  const service = ctx.resolved.get(name)
  if (!service) return []
  const mounts: Mount[] = []
  if (Array.isArray(service.volumes)) {
    for (const volume of service.volumes) mounts.push({ volume, via: seen.size > 1 ? name : null })
  }
  if (service.volumes_from === undefined) return mounts
  if (!Array.isArray(service.volumes_from)) {
    ctx.violations.push(`${owner}: volumes_from must be a list`)
    return mounts
  }
  for (const entry of service.volumes_from) {
    if (typeof entry !== 'string') {
      ctx.violations.push(`${owner}: volumes_from entry ${JSON.stringify(entry)} is not a string`)
      continue
    }
    if (interpolated(entry)) {
      refuseInterpolation(ctx, owner, 'volumes_from', entry)
      continue
    }
    const from = parseVolumesFrom(entry)
    if (from.kind === 'container') {
      ctx.violations.push(`${owner}: volumes_from "${entry}" takes the mounts of a container outside this file, which this check cannot see`)
      continue
    }
    if (!ctx.resolved.has(from.name)) {
      ctx.violations.push(`${owner}: volumes_from "${entry}" names no service of this file`)
      continue
    }
    if (seen.has(from.name)) continue
    // What the other service mounts lands in this one, under this one's rules.
    for (const mount of mountsOf(from.name, ctx, seen)) mounts.push({ volume: mount.volume, via: mount.via ?? from.name })
  }
  return mounts
}

const HOST_NAMESPACE_KEYS = ['pid', 'ipc', 'uts', 'userns_mode', 'network_mode', 'cgroup'] as const
/** Joining another service's namespace: `service:NAME` (and compose v1's `container:NAME`). */
const SHARED_NAMESPACE_KEYS = new Set(['pid', 'ipc', 'network_mode'])

function checkNamespaces(owner: string, service: Dict, ctx: Context): void {
  for (const key of HOST_NAMESPACE_KEYS) {
    const value = service[key]
    if (value === undefined || value === null) continue
    if (interpolated(value)) {
      refuseInterpolation(ctx, owner, key, value)
      continue
    }
    const mode = String(value).trim().toLowerCase()
    if (mode === 'host') {
      ctx.violations.push(`${owner}: ${key}: host shares the host's namespace with the container`)
      continue
    }
    if (!SHARED_NAMESPACE_KEYS.has(key)) continue
    if (mode.startsWith('container:')) {
      ctx.violations.push(`${owner}: ${key}: ${String(value)} joins a container outside this file, which this check cannot see`)
    }
    else if (mode === `service:${ctx.socketProxyService}`) {
      // Its pid namespace reaches the socket through /proc/<pid>/root, its network the engine API.
      ctx.violations.push(`${owner}: ${key}: ${String(value)} joins the Docker socket proxy's namespace (it gives root on the host)`)
    }
  }
}

/**
 * A stack file reaches the host's network through a network rather than `network_mode`: an
 * external network named `host` (`networks: {outside: {external: true, name: host}}`).
 */
function checkNetworks(owner: string, service: Dict, ctx: Context): void {
  const attached = Array.isArray(service.networks) ? service.networks : isDict(service.networks) ? Object.keys(service.networks) : []
  for (const key of attached) {
    if (interpolated(key)) {
      refuseInterpolation(ctx, owner, 'networks', key)
      continue
    }
    const network = ctx.networks[String(key)]
    const def = isDict(network) ? network : {}
    const external = def.external === true || isDict(def.external)
    const name = typeof def.name === 'string' ? def.name : isDict(def.external) && typeof def.external.name === 'string' ? def.external.name : external ? String(key) : null
    // Not a type guard here: a name that is not interpolated is still a string.
    const dynamic: boolean = name !== null && interpolated(name)
    if (dynamic) refuseInterpolation(ctx, owner, `network ${String(key)}'s name`, name!)
    else if (external && name?.trim().toLowerCase() === 'host') ctx.violations.push(`${owner}: network ${String(key)} is the host's network, which shares the host's network namespace with the container`)
  }
}

/** The `deploy` keys a release may set (Swarm's; compose honours replicas and resources). */
const DEPLOY_KEYS = ['mode', 'replicas', 'placement', 'update_config', 'rollback_config', 'resources', 'restart_policy', 'endpoint_mode', 'labels']

function checkDeploy(name: string, service: Dict, ctx: Context): void {
  const owner = `service ${name}`
  const deploy = service.deploy
  if (deploy === undefined || deploy === null) return
  if (!isDict(deploy)) {
    ctx.violations.push(`${owner}: deploy must be a mapping`)
    return
  }
  for (const key of Object.keys(deploy)) {
    if (!DEPLOY_KEYS.includes(key)) ctx.violations.push(`${owner}: deploy.${key} is not allowed (allowed: ${DEPLOY_KEYS.join(', ')})`)
  }
  const mode = deploy.mode
  if (interpolated(mode)) refuseInterpolation(ctx, owner, 'deploy.mode', mode)
  else if (mode === 'global') {
    if (!ctx.globalServices.has(name)) ctx.violations.push(`${owner}: deploy.mode global runs a task on every node of the swarm, new ones included; allowed only for the services OWLAT_SWARM_GLOBAL_SERVICES names`)
  }
  else if (mode !== undefined && mode !== 'replicated') ctx.violations.push(`${owner}: deploy.mode ${JSON.stringify(mode)} is not allowed (replicated, or global for the services OWLAT_SWARM_GLOBAL_SERVICES names)`)
  const reservations = isDict(deploy.resources) && isDict(deploy.resources.reservations) ? deploy.resources.reservations : null
  if (reservations?.devices !== undefined && !(Array.isArray(reservations.devices) && reservations.devices.length === 0)) {
    ctx.violations.push(`${owner}: deploy.resources.reservations.devices give the container host devices`)
  }
}

// Each disables a kernel confinement layer: seccomp, AppArmor, SELinux labelling, masked /proc paths.
const UNCONFINED_SECURITY_OPTS: ReadonlyArray<{ pattern: RegExp, why: string }> = [
  { pattern: /^seccomp[=:]unconfined$/, why: 'disables the seccomp syscall filter' },
  { pattern: /^apparmor[=:]unconfined$/, why: 'disables the AppArmor profile' },
  { pattern: /^label[=:]disable$/, why: 'disables SELinux labelling' },
  { pattern: /^systempaths[=:]unconfined$/, why: 'unmasks /proc and /sys paths' },
]

function asList(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [value]
}

function checkService(name: string, service: Dict, ctx: Context): void {
  const owner = `service ${name}`
  if (service.build !== undefined) {
    ctx.violations.push(`${owner}: builds an image locally; releases must use pinned images from the allowed registries`)
  }
  if (typeof service.image !== 'string' || service.image.trim() === '') {
    if (service.build === undefined) ctx.violations.push(`${owner}: has no image`)
  }
  else if (interpolated(service.image)) {
    ctx.violations.push(`${owner}: image "${ctx.vars.display(service.image)}" uses variable interpolation, so its origin cannot be checked`)
  }
  else if (!IMAGE_REFERENCE.test(service.image)) {
    ctx.violations.push(`${owner}: image "${service.image}" is not a valid image reference`)
  }
  else if (!imageAllowed(service.image, ctx.imagePrefixes)) {
    ctx.violations.push(`${owner}: image "${service.image}" is not from an allowed registry (${ctx.imagePrefixes.join(', ')})`)
  }

  if (interpolated(service.privileged)) refuseInterpolation(ctx, owner, 'privileged', service.privileged)
  else if (service.privileged !== undefined && service.privileged !== false && service.privileged !== 'false') {
    ctx.violations.push(`${owner}: privileged mode gives the container full access to the host`)
  }

  if (service.cap_add !== undefined) {
    for (const cap of asList(service.cap_add)) {
      if (interpolated(cap)) {
        refuseInterpolation(ctx, owner, 'cap_add', cap)
        continue
      }
      const normalised = normaliseCapability(String(cap))
      if (normalised === 'ALL') {
        ctx.violations.push(`${owner}: cap_add ${String(cap)} grants every capability, as good as privileged mode`)
      }
      else if (!ctx.capabilities.has(normalised)) {
        ctx.violations.push(`${owner}: cap_add ${String(cap)} is not allowed (allowed: ${[...ctx.capabilities].join(', ')}; OWLAT_ALLOWED_CAPABILITIES)`)
      }
    }
  }

  if (service.devices !== undefined && !(Array.isArray(service.devices) && service.devices.length === 0)) {
    ctx.violations.push(`${owner}: devices give the container direct access to host hardware`)
  }
  if (service.device_cgroup_rules !== undefined && !(Array.isArray(service.device_cgroup_rules) && service.device_cgroup_rules.length === 0)) {
    ctx.violations.push(`${owner}: device_cgroup_rules give the container access to host devices`)
  }

  checkNamespaces(owner, service, ctx)
  checkNetworks(owner, service, ctx)
  checkDeploy(name, service, ctx)

  if (service.security_opt !== undefined) {
    for (const opt of asList(service.security_opt)) {
      if (interpolated(opt)) {
        refuseInterpolation(ctx, owner, 'security_opt', opt)
        continue
      }
      const normalised = String(opt).replace(/\s+/g, '').toLowerCase()
      const hit = UNCONFINED_SECURITY_OPTS.find(u => u.pattern.test(normalised))
      if (hit) ctx.violations.push(`${owner}: security_opt ${String(opt)} ${hit.why}`)
    }
  }

  if (service.volumes !== undefined && !Array.isArray(service.volumes)) ctx.violations.push(`${owner}: volumes must be a list`)
  checkMounts(name, mountsOf(name, ctx), ctx)

  // env_file is read by the updater on the host, so it could copy any file it can read into a container.
  if (service.env_file !== undefined) {
    for (const file of asList(service.env_file)) {
      const path = isDict(file) ? file.path : file
      if (typeof path === 'string') checkHostPath(owner, 'env_file', path, ctx, false)
      else ctx.violations.push(`${owner}: env_file entry ${JSON.stringify(file)} has no path`)
    }
  }
}

/**
 * Compose's merge of an `extends` base into a service, as far as the rules care: mappings merge,
 * lists add up (so nothing the base mounts or adds can hide), anything else the service overrides.
 */
function mergeService(base: Dict, own: Dict): Dict {
  const out: Dict = { ...base }
  for (const [key, value] of Object.entries(own)) {
    const prior = out[key]
    if (isDict(prior) && isDict(value)) out[key] = mergeService(prior, value)
    else if (Array.isArray(prior) && Array.isArray(value)) out[key] = [...prior, ...value]
    else out[key] = value
  }
  return out
}

/** The service with its same-file `extends` chain merged in; another file's is refused (it cannot be seen). */
function resolveService(name: string, ctx: Context, chain: string[] = []): Dict | null {
  const known = ctx.resolved.get(name)
  if (known) return known
  const raw = ctx.services[name]
  const owner = `service ${name}`
  if (!isDict(raw)) return null
  const { extends: ext, ...own } = raw
  if (ext === undefined) {
    ctx.resolved.set(name, own)
    return own
  }
  let baseName: unknown
  if (typeof ext === 'string') baseName = ext
  else if (isDict(ext)) {
    if (ext.file !== undefined) {
      ctx.violations.push(`${owner}: extends a service from another file, which this check cannot see`)
      ctx.resolved.set(name, own)
      return own
    }
    baseName = ext.service
  }
  let base: Dict | null = null
  if (interpolated(baseName)) refuseInterpolation(ctx, owner, 'extends', baseName)
  else if (typeof baseName !== 'string' || !isDict(ctx.services[baseName])) {
    ctx.violations.push(`${owner}: extends ${JSON.stringify(baseName ?? null)}, which is no service of this file`)
  }
  else if (chain.includes(baseName) || baseName === name) {
    ctx.violations.push(`${owner}: extends ${baseName} in a cycle`)
  }
  else base = resolveService(baseName, ctx, [...chain, name])
  const merged = base ? mergeService(base, own) : own
  ctx.resolved.set(name, merged)
  return merged
}

/** Top-level volumes, secrets and configs can also expose host paths. */
function checkTopLevel(doc: Dict, ctx: Context): void {
  if (doc.include !== undefined) {
    ctx.violations.push('compose file: include pulls in other files, which this check cannot see')
  }
  if (isDict(doc.volumes)) {
    for (const [name, volume] of Object.entries(doc.volumes)) {
      if (!isDict(volume) || !isDict(volume.driver_opts)) continue
      const opts = volume.driver_opts
      if (interpolated(opts.o)) {
        refuseInterpolation(ctx, `volume ${name}`, 'driver_opts.o', opts.o)
        continue
      }
      // The local driver with `o: bind` and a `device` is a bind mount in disguise.
      if (typeof opts.o === 'string' && /(?:^|,)r?bind(?:,|$)/.test(opts.o) && typeof opts.device === 'string') {
        checkHostPath(`volume ${name}`, 'device', opts.device, ctx, false)
      }
    }
  }
  for (const section of ['secrets', 'configs'] as const) {
    const entries = doc[section]
    if (!isDict(entries)) continue
    for (const [name, entry] of Object.entries(entries)) {
      if (isDict(entry) && typeof entry.file === 'string') {
        checkHostPath(`${section.slice(0, -1)} ${name}`, 'file', entry.file, ctx, false)
      }
    }
  }
}

function firstLine(message: string): string {
  return message.split('\n')[0]!.trim().replace(/:$/, '')
}

/** Checks compose text against the policy. Never throws: unreadable input is a violation too. */
export function checkComposePolicy(text: string, options: ComposePolicyOptions): ComposePolicyResult {
  const violations: string[] = []
  if (Buffer.byteLength(text) > MAX_COMPOSE_BYTES) {
    return { ok: false, violations: [`compose file is larger than ${MAX_COMPOSE_BYTES} bytes`] }
  }
  let parsed: unknown
  try {
    // merge: compose honours `<<: *anchor`, so the check must see merged keys too; uniqueKeys stops
    // a second `privileged:` from hiding behind the first.
    const document = parseDocument(text, { merge: true, uniqueKeys: true })
    if (document.errors.length > 0) {
      return { ok: false, violations: [`compose file is not valid YAML: ${firstLine(document.errors[0]!.message)}`] }
    }
    parsed = document.toJS({ maxAliasCount: MAX_ALIAS_COUNT })
  }
  catch (err) {
    return { ok: false, violations: [`compose file is refused: ${firstLine(err instanceof Error ? err.message : String(err))}`] }
  }
  if (!isDict(parsed)) return { ok: false, violations: ['compose file must be a mapping with a services section'] }
  if (!isDict(parsed.services) || Object.keys(parsed.services).length === 0) {
    return { ok: false, violations: ['compose file has no services'] }
  }

  const vars = new Interpolations()
  const doc = vars.walk(parsed) as Dict & { services: Dict }
  const projectDir = posix.resolve(options.projectDir)
  const ctx: Context = {
    projectDir,
    imagePrefixes: options.allowedImagePrefixes ?? DEFAULT_ALLOWED_IMAGE_PREFIXES,
    bindPrefixes: (options.allowedBindPrefixes ?? DEFAULT_ALLOWED_BIND_PREFIXES).map(p => posix.resolve(projectDir, p)),
    capabilities: new Set((options.allowedCapabilities ?? DEFAULT_ALLOWED_CAPABILITIES).map(normaliseCapability)),
    socketProxyService: options.socketProxyService ?? DEFAULT_SOCKET_PROXY_SERVICE,
    globalServices: new Set(options.globalServices ?? []),
    networks: isDict(doc.networks) ? doc.networks : {},
    violations,
    vars,
    services: doc.services,
    resolved: new Map(),
  }
  for (const [name, service] of Object.entries(doc.services)) {
    if (!isDict(service)) {
      violations.push(`service ${name}: must be a mapping`)
      continue
    }
    resolveService(name, ctx)
  }
  for (const name of Object.keys(doc.services)) {
    const service = ctx.resolved.get(name)
    if (service) checkService(name, service, ctx)
  }
  checkTopLevel(doc, ctx)
  // A rule can meet the same construct twice (a service and what extends it): say it once.
  const unique = [...new Set(violations)]
  return { ok: unique.length === 0, violations: unique }
}
