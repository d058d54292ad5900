/**
 * Compose policy: what a release's compose file may ask the container engine for. The updater
 * runs next to the engine with full control of it, so a compose file is the one input that
 * could turn a signed-but-compromised release (or a hand edit) into root on the host. The
 * sidecar checks it before every job, the web before dispatch, the CLI in `compose check`,
 * `release verify` and `doctor`. Node only.
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

/** Capabilities a service may add: the ones ordinary daemons need to drop privileges or bind :25. */
export const DEFAULT_ALLOWED_CAPABILITIES: readonly string[] = ['NET_BIND_SERVICE', 'CHOWN', 'SETUID', 'SETGID']

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
}

export interface ComposePolicyResult {
  ok: boolean
  violations: string[]
}

/** `OWLAT_ALLOWED_IMAGE_PREFIXES` / `OWLAT_ALLOWED_BIND_PREFIXES` (comma separated) replace the defaults. */
export function composePolicyOptionsFromEnv(env: NodeJS.ProcessEnv, projectDir: string): ComposePolicyOptions {
  const list = (value: string | undefined) => {
    const items = (value ?? '').split(',').map(s => s.trim()).filter(Boolean)
    return items.length > 0 ? items : undefined
  }
  return {
    projectDir,
    allowedImagePrefixes: list(env.OWLAT_ALLOWED_IMAGE_PREFIXES) ?? DEFAULT_ALLOWED_IMAGE_PREFIXES,
    allowedBindPrefixes: list(env.OWLAT_ALLOWED_BIND_PREFIXES) ?? DEFAULT_ALLOWED_BIND_PREFIXES,
  }
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

interface Context {
  projectDir: string
  imagePrefixes: readonly string[]
  bindPrefixes: string[]
  capabilities: Set<string>
  socketProxyService: string
  violations: string[]
}

/** Host path as the engine will see it, or null when compose would interpolate it first (unknowable here). */
function resolveHostPath(source: string, ctx: Context): string | null {
  if (source.includes('$')) return null
  if (source === '~' || source.startsWith('~/')) return posix.resolve(homedir(), `.${source.slice(1)}`)
  return posix.resolve(ctx.projectDir, source)
}

/** Checks one host path a service (or volume, secret, config) would expose to a container. */
function checkHostPath(owner: string, what: string, source: string, ctx: Context, socketAllowed: boolean): void {
  const resolved = resolveHostPath(source, ctx)
  if (resolved === null) {
    ctx.violations.push(`${owner}: ${what} "${source}" uses variable interpolation, so the host path cannot be checked`)
    return
  }
  const isSocket = DOCKER_SOCKET_PATHS.includes(resolved)
  if (isSocket) {
    if (!socketAllowed) {
      ctx.violations.push(`${owner}: ${what} mounts the Docker socket ${resolved}; only the "${ctx.socketProxyService}" service may (it gives root on the host)`)
    }
    return
  }
  if (DOCKER_SOCKET_PATHS.some(socket => isUnder(socket, resolved))) {
    ctx.violations.push(`${owner}: ${what} "${source}" mounts ${resolved}, which contains the Docker socket (it gives root on the host)`)
    return
  }
  if (!ctx.bindPrefixes.some(prefix => isUnder(resolved, prefix))) {
    ctx.violations.push(`${owner}: ${what} "${source}" mounts host path ${resolved}, outside the allowed folders (${ctx.bindPrefixes.join(', ')})`)
  }
}

/** Short syntax `SOURCE:TARGET[:MODE]`: a source starting with `.`, `/` or `~` is a host path, anything else a named volume. */
function shortVolumeSource(spec: string): string | null {
  const parts = spec.split(':')
  if (parts.length < 2) return null // anonymous volume: just a container path
  const source = parts[0]!
  return /^[./~$]/.test(source) ? source : null
}

function checkVolumes(name: string, volumes: unknown, ctx: Context): void {
  if (volumes === undefined) return
  if (!Array.isArray(volumes)) {
    ctx.violations.push(`service ${name}: volumes must be a list`)
    return
  }
  const socketAllowed = name === ctx.socketProxyService
  for (const volume of volumes) {
    if (typeof volume === 'string') {
      const source = shortVolumeSource(volume)
      if (source !== null) checkHostPath(`service ${name}`, 'bind mount', source, ctx, socketAllowed)
      continue
    }
    if (!isDict(volume)) {
      ctx.violations.push(`service ${name}: volume entry ${JSON.stringify(volume)} is neither a string nor a mapping`)
      continue
    }
    const type = volume.type ?? (typeof volume.source === 'string' && /^[./~$]/.test(volume.source) ? 'bind' : 'volume')
    if (type === 'bind') {
      if (typeof volume.source !== 'string' || volume.source === '') {
        ctx.violations.push(`service ${name}: bind mount has no source`)
        continue
      }
      checkHostPath(`service ${name}`, 'bind mount', volume.source, ctx, socketAllowed)
    }
    else if (type === 'npipe' && !socketAllowed) {
      ctx.violations.push(`service ${name}: npipe mounts reach the engine's named pipe; only the "${ctx.socketProxyService}" service may`)
    }
    else if (!['volume', 'tmpfs', 'npipe', 'cluster', 'image'].includes(String(type))) {
      ctx.violations.push(`service ${name}: volume type "${String(type)}" is not known`)
    }
  }
}

const HOST_NAMESPACE_KEYS = ['pid', 'ipc', 'uts', 'userns_mode', 'network_mode', 'cgroup'] as const

// Each disables a kernel confinement layer: seccomp, AppArmor, SELinux labelling, masked /proc paths.
const UNCONFINED_SECURITY_OPTS: ReadonlyArray<{ pattern: RegExp, why: string }> = [
  { pattern: /^seccomp[=:]unconfined$/, why: 'disables the seccomp syscall filter' },
  { pattern: /^apparmor[=:]unconfined$/, why: 'disables the AppArmor profile' },
  { pattern: /^label[=:]disable$/, why: 'disables SELinux labelling' },
  { pattern: /^systempaths[=:]unconfined$/, why: 'unmasks /proc and /sys paths' },
]

function checkService(name: string, service: unknown, ctx: Context): void {
  const owner = `service ${name}`
  if (!isDict(service)) {
    ctx.violations.push(`${owner}: must be a mapping`)
    return
  }
  if (service.build !== undefined) {
    ctx.violations.push(`${owner}: builds an image locally; releases must use pinned images from the allowed registries`)
  }
  if (typeof service.image !== 'string' || service.image.trim() === '') {
    if (service.build === undefined) ctx.violations.push(`${owner}: has no image`)
  }
  else if (service.image.includes('$')) {
    ctx.violations.push(`${owner}: image "${service.image}" uses variable interpolation, so its origin cannot be checked`)
  }
  else if (!IMAGE_REFERENCE.test(service.image)) {
    ctx.violations.push(`${owner}: image "${service.image}" is not a valid image reference`)
  }
  else if (!imageAllowed(service.image, ctx.imagePrefixes)) {
    ctx.violations.push(`${owner}: image "${service.image}" is not from an allowed registry (${ctx.imagePrefixes.join(', ')})`)
  }

  if (service.privileged !== undefined && service.privileged !== false && service.privileged !== 'false') {
    ctx.violations.push(`${owner}: privileged mode gives the container full access to the host`)
  }

  if (service.cap_add !== undefined) {
    const caps = Array.isArray(service.cap_add) ? service.cap_add : [service.cap_add]
    for (const cap of caps) {
      const normalised = String(cap).trim().toUpperCase().replace(/^CAP_/, '')
      if (!ctx.capabilities.has(normalised)) {
        ctx.violations.push(`${owner}: cap_add ${String(cap)} is not allowed (allowed: ${[...ctx.capabilities].join(', ')})`)
      }
    }
  }

  if (service.devices !== undefined && !(Array.isArray(service.devices) && service.devices.length === 0)) {
    ctx.violations.push(`${owner}: devices give the container direct access to host hardware`)
  }
  if (service.device_cgroup_rules !== undefined && !(Array.isArray(service.device_cgroup_rules) && service.device_cgroup_rules.length === 0)) {
    ctx.violations.push(`${owner}: device_cgroup_rules give the container access to host devices`)
  }

  for (const key of HOST_NAMESPACE_KEYS) {
    if (typeof service[key] === 'string' && service[key].trim().toLowerCase() === 'host') {
      ctx.violations.push(`${owner}: ${key}: host shares the host's namespace with the container`)
    }
  }

  if (service.security_opt !== undefined) {
    const opts = Array.isArray(service.security_opt) ? service.security_opt : [service.security_opt]
    for (const opt of opts) {
      const normalised = String(opt).replace(/\s+/g, '').toLowerCase()
      const hit = UNCONFINED_SECURITY_OPTS.find(u => u.pattern.test(normalised))
      if (hit) ctx.violations.push(`${owner}: security_opt ${String(opt)} ${hit.why}`)
    }
  }

  checkVolumes(name, service.volumes, ctx)

  if (isDict(service.extends) && service.extends.file !== undefined) {
    ctx.violations.push(`${owner}: extends a service from another file, which this check cannot see`)
  }

  // env_file is read by the updater on the host, so it could copy any file it can read into a container.
  if (service.env_file !== undefined) {
    const files = Array.isArray(service.env_file) ? service.env_file : [service.env_file]
    for (const file of files) {
      const path = isDict(file) ? file.path : file
      if (typeof path === 'string') checkHostPath(owner, 'env_file', path, ctx, false)
      else ctx.violations.push(`${owner}: env_file entry ${JSON.stringify(file)} has no path`)
    }
  }
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
  let doc: unknown
  try {
    // merge: compose honours `<<: *anchor`, so the check must see merged keys too; uniqueKeys stops
    // a second `privileged:` from hiding behind the first.
    const parsed = parseDocument(text, { merge: true, uniqueKeys: true })
    if (parsed.errors.length > 0) {
      return { ok: false, violations: [`compose file is not valid YAML: ${firstLine(parsed.errors[0]!.message)}`] }
    }
    doc = parsed.toJS({ maxAliasCount: MAX_ALIAS_COUNT })
  }
  catch (err) {
    return { ok: false, violations: [`compose file is refused: ${firstLine(err instanceof Error ? err.message : String(err))}`] }
  }
  if (!isDict(doc)) return { ok: false, violations: ['compose file must be a mapping with a services section'] }
  if (!isDict(doc.services) || Object.keys(doc.services).length === 0) {
    return { ok: false, violations: ['compose file has no services'] }
  }

  const projectDir = posix.resolve(options.projectDir)
  const ctx: Context = {
    projectDir,
    imagePrefixes: options.allowedImagePrefixes ?? DEFAULT_ALLOWED_IMAGE_PREFIXES,
    bindPrefixes: (options.allowedBindPrefixes ?? DEFAULT_ALLOWED_BIND_PREFIXES).map(p => posix.resolve(projectDir, p)),
    capabilities: new Set((options.allowedCapabilities ?? DEFAULT_ALLOWED_CAPABILITIES).map(c => c.toUpperCase().replace(/^CAP_/, ''))),
    socketProxyService: options.socketProxyService ?? DEFAULT_SOCKET_PROXY_SERVICE,
    violations,
  }
  for (const [name, service] of Object.entries(doc.services)) checkService(name, service, ctx)
  checkTopLevel(doc, ctx)
  return { ok: violations.length === 0, violations }
}
