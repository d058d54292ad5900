/**
 * The stack as the checks read it: each service's image, mounts, published ports, environment,
 * command, logging options, healthcheck start period and labels, normalised from either compose
 * syntax. Production feeds it what `compose config` renders (long syntax, values interpolated),
 * so the checks judge what `up` will run; the short syntax is read too, for a file read as text
 * when no compose CLI is at hand (there `${X}` is filled from the project's `.env`). Node only.
 */
import { parseDocument } from 'yaml'
import { imageRepository, MAX_ALIAS_COUNT } from '../../compose-policy'

export interface StackMount {
  type: 'volume' | 'bind' | 'tmpfs' | 'other'
  /** Volume name or host path; null for an anonymous volume or tmpfs. */
  source: string | null
  target: string
  readOnly: boolean
}

export interface StackPort {
  /** Host interface; null means every interface. */
  hostIp: string | null
  published: number
  target: number
  protocol: string
}

export interface StackService {
  name: string
  image: string | null
  /** `imageRepository(image)`, e.g. `docker.io/library/redis`. */
  repository: string | null
  profiles: string[]
  labels: Record<string, string>
  environment: Record<string, string>
  mounts: StackMount[]
  ports: StackPort[]
  /** The command's words (a string command split on spaces). */
  command: string[]
  logging: { driver: string | null, options: Record<string, string> }
  /** The healthcheck's start period, 0 without one. */
  startPeriodMs: number
}

export interface StackModel {
  services: StackService[]
  /** Top-level named volumes. */
  volumes: string[]
}

type Dict = Record<string, unknown>
const isDict = (v: unknown): v is Dict => typeof v === 'object' && v !== null && !Array.isArray(v)

/** Compose's `${VAR}`, `$VAR`, `${VAR:-d}`, `${VAR-d}`, `${VAR:?e}`, `${VAR?e}`, `$$` over `env`. */
export function interpolate(text: string, env: Record<string, string | undefined>): string {
  return text.replace(/\$\$|\$\{([A-Za-z_]\w*)(?:(:?[-?+])([^}]*))?\}|\$([A-Za-z_]\w*)/g, (match, braced?: string, op?: string, arg?: string, bare?: string) => {
    if (match === '$$') return '$'
    const name = (braced ?? bare)!
    const value = env[name]
    const unsetOrEmpty = value === undefined || (op?.startsWith(':') && value === '')
    if (op === ':-' || op === '-') return unsetOrEmpty ? (arg ?? '') : value!
    if (op === ':+' || op === '+') return unsetOrEmpty ? '' : (arg ?? '')
    return value ?? ''
  })
}

const DURATION_UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 }

/** A compose/Go duration (`120s`, `1m30s`, `2m0s`) in ms; a bare number counts as seconds; null when unreadable. */
export function parseDuration(value: unknown): number | null {
  if (typeof value === 'number') return value * 1000
  if (typeof value !== 'string') return null
  const text = value.trim()
  if (/^\d+(?:\.\d+)?$/.test(text)) return Number(text) * 1000
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)]
  if (parts.length === 0 || parts.map(p => p[0]).join('') !== text) return null
  return parts.reduce((sum, p) => sum + Number(p[1]) * DURATION_UNITS[p[2]!]!, 0)
}

function stringMap(value: unknown): Record<string, string> {
  const out: Record<string, string> = {}
  if (Array.isArray(value)) {
    for (const entry of value.map(String)) {
      const eq = entry.indexOf('=')
      if (eq > 0) out[entry.slice(0, eq)] = entry.slice(eq + 1)
    }
  }
  else if (isDict(value)) {
    for (const [k, v] of Object.entries(value)) if (v !== null && v !== undefined) out[k] = String(v)
  }
  return out
}

function parseMount(entry: unknown): StackMount | null {
  if (isDict(entry)) {
    const type = entry.type === 'volume' || entry.type === 'bind' || entry.type === 'tmpfs' ? entry.type : 'other'
    if (typeof entry.target !== 'string') return null
    return { type, source: typeof entry.source === 'string' && entry.source !== '' ? entry.source : null, target: entry.target, readOnly: entry.read_only === true }
  }
  if (typeof entry !== 'string') return null
  const parts = entry.split(':')
  if (parts.length === 1) return { type: 'volume', source: null, target: parts[0]!, readOnly: false }
  const [source, target, mode = ''] = parts as [string, string, string?]
  const bind = source.startsWith('/') || source.startsWith('.') || source.startsWith('~')
  return { type: bind ? 'bind' : 'volume', source, target, readOnly: mode.split(',').includes('ro') }
}

function portRange(text: string): number[] {
  const [from, to] = text.split('-').map(Number)
  if (from === undefined || !Number.isInteger(from)) return []
  const end = to !== undefined && Number.isInteger(to) ? to : from
  return Array.from({ length: Math.max(0, end - from + 1) }, (_, i) => from + i)
}

function parsePorts(entry: unknown): StackPort[] {
  if (isDict(entry)) {
    const target = Number(entry.target)
    const protocol = typeof entry.protocol === 'string' ? entry.protocol : 'tcp'
    const hostIp = typeof entry.host_ip === 'string' && entry.host_ip !== '' ? entry.host_ip : null
    if (entry.published === undefined || entry.published === null || entry.published === '') return []
    return portRange(String(entry.published)).map((published, i) => ({ hostIp, published, target: target + i, protocol }))
  }
  if (typeof entry !== 'string' && typeof entry !== 'number') return []
  let text = String(entry)
  let protocol = 'tcp'
  const slash = text.indexOf('/')
  if (slash >= 0) {
    protocol = text.slice(slash + 1)
    text = text.slice(0, slash)
  }
  // `[::1]:80:80`, `127.0.0.1:80:80`, `80:80`, `80` (container only: nothing published on a fixed port).
  let hostIp: string | null = null
  const v6 = /^\[([^\]]+)\]:(.*)$/.exec(text)
  if (v6) {
    hostIp = v6[1]!
    text = v6[2]!
  }
  const parts = text.split(':')
  if (parts.length === 3) {
    hostIp = parts[0]! || null
    parts.shift()
  }
  if (parts.length !== 2 || parts[0] === '') return []
  const published = portRange(parts[0]!)
  const targets = portRange(parts[1]!)
  return published.map((p, i) => ({ hostIp, published: p, target: targets[i] ?? targets[0] ?? p, protocol }))
}

function words(value: unknown): string[] {
  if (Array.isArray(value)) return value.map(String)
  if (typeof value === 'string') return value.split(/\s+/).filter(Boolean)
  return []
}

/**
 * Reads compose YAML into the model. `env` fills `${X}` in a file read as text; the rendering of
 * `compose config` has nothing left to fill (its `$$` are literal `$`, and stay so).
 */
export function parseStackModel(text: string, env: Record<string, string | undefined> | null = null): StackModel {
  const doc = parseDocument(text, { merge: true })
  if (doc.errors.length > 0) throw new Error(`compose file is not valid YAML: ${doc.errors[0]!.message.split('\n')[0]}`)
  let js: unknown = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT })
  if (env) js = fill(js, env)
  if (!isDict(js) || !isDict(js.services)) throw new Error('compose file has no services section')
  const services: StackService[] = []
  for (const [name, raw] of Object.entries(js.services)) {
    if (!isDict(raw)) continue
    const image = typeof raw.image === 'string' ? raw.image : null
    const logging = isDict(raw.logging) ? raw.logging : {}
    const healthcheck = isDict(raw.healthcheck) && raw.healthcheck.disable !== true ? raw.healthcheck : null
    services.push({
      name,
      image,
      repository: image ? imageRepository(image) : null,
      profiles: Array.isArray(raw.profiles) ? raw.profiles.map(String) : [],
      labels: stringMap(raw.labels),
      environment: stringMap(raw.environment),
      mounts: (Array.isArray(raw.volumes) ? raw.volumes : []).map(parseMount).filter((m): m is StackMount => m !== null)
        .concat((Array.isArray(raw.tmpfs) ? raw.tmpfs : typeof raw.tmpfs === 'string' ? [raw.tmpfs] : []).map(t => ({ type: 'tmpfs', source: null, target: String(t).split(':')[0]!, readOnly: false }))),
      ports: (Array.isArray(raw.ports) ? raw.ports : []).flatMap(parsePorts),
      command: words(raw.command),
      logging: { driver: typeof logging.driver === 'string' ? logging.driver : null, options: stringMap(logging.options) },
      startPeriodMs: healthcheck ? (parseDuration(healthcheck.start_period) ?? 0) : 0,
    })
  }
  return { services, volumes: isDict(js.volumes) ? Object.keys(js.volumes) : [] }
}

function fill(value: unknown, env: Record<string, string | undefined>): unknown {
  if (typeof value === 'string') return interpolate(value, env)
  if (Array.isArray(value)) return value.map(v => fill(v, env))
  if (isDict(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fill(v, env)]))
  return value
}
