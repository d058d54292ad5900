/**
 * The checks read from the stack's compose model alone (no engine, no network): the failure modes
 * the seeds list (self-hosted-convex-docker Q25–Q29, maintenance-and-updates' troubleshooting).
 * Each is produced for real from a compose file; tests/checks/ holds one that trips each and one
 * that passes. Node only.
 */
import type { StackModel, StackService } from './model'
import { secretWeakness } from './secrets'
import { fail, ok, skip, warn, type Check } from './types'

/** Where the Convex backend keeps its database, instance secret and admin keys. */
export const CONVEX_DATA_PATH = '/convex/data'
/** Where the Convex image keeps itself: a mount over it hides the backend (Q25). */
export const CONVEX_ROOT = '/convex'
export const DASHBOARD_PORT = 6791

export interface StackRoles {
  /** The Convex backend service; default: the one running `…/convex-backend`, else `convex`. */
  convex?: string
  /** The web service, whose environment holds NUXT_PUBLIC_*; default `web`. */
  web?: string
}

export function findService(model: StackModel, name: string | undefined, matches: (s: StackService) => boolean, fallback: string): StackService | null {
  if (name) return model.services.find(s => s.name === name) ?? null
  return model.services.find(matches) ?? model.services.find(s => s.name === fallback) ?? null
}

export function convexService(model: StackModel, roles: StackRoles = {}): StackService | null {
  return findService(model, roles.convex, s => s.repository?.endsWith('/convex-backend') ?? false, 'convex')
}

const CONVEX_DATA_FIX = `put ${CONVEX_DATA_PATH} on a named volume (volumes: ["convex-data:${CONVEX_DATA_PATH}"] with convex-data under the top-level volumes) before updating; never delete that volume`

/** Blocking: an update recreates the container, and a database that is not on a volume goes with it (Q27, Q28). */
export function checkConvexData(model: StackModel, roles: StackRoles = {}): Check {
  const id = 'convex-data-volume'
  const convex = convexService(model, roles)
  if (!convex) return skip(id, 'the stack has no Convex service', true)
  const mount = convex.mounts.find(m => m.target.replace(/\/+$/, '') === CONVEX_DATA_PATH)
  if (!mount) return fail(id, `${convex.name}: ${CONVEX_DATA_PATH} is on no volume, so recreating it wipes the database, instance secret and admin keys`, CONVEX_DATA_FIX, true)
  if (mount.type === 'volume' && mount.source) return ok(id, `${convex.name}: ${CONVEX_DATA_PATH} is on the named volume ${mount.source}`, true)
  if (mount.type === 'bind' && mount.source) {
    if (mount.readOnly) return fail(id, `${convex.name}: ${CONVEX_DATA_PATH} is bind-mounted read-only from ${mount.source}; the backend cannot write its database`, `drop :ro from the ${CONVEX_DATA_PATH} mount`, true)
    return ok(id, `${convex.name}: ${CONVEX_DATA_PATH} is bind-mounted from ${mount.source}`, true)
  }
  const what = mount.type === 'tmpfs' ? 'a tmpfs' : mount.type === 'volume' ? 'an anonymous volume' : `a ${mount.type} mount`
  return fail(id, `${convex.name}: ${CONVEX_DATA_PATH} is on ${what}, which does not survive recreating the container`, CONVEX_DATA_FIX, true)
}

/** Blocking: a mount over `/convex` itself (`./convex:/convex:ro`) hides the backend, which cannot start (Q25). */
export function checkConvexMount(model: StackModel, roles: StackRoles = {}): Check {
  const id = 'convex-mount'
  const convex = convexService(model, roles)
  if (!convex) return skip(id, 'the stack has no Convex service', true)
  const over = convex.mounts.find(m => m.target.replace(/\/+$/, '') === CONVEX_ROOT)
  if (over) {
    return fail(id, `${convex.name}: ${over.source ?? 'a volume'} is mounted over ${CONVEX_ROOT}${over.readOnly ? ' read-only' : ''}, where the backend itself lives`, `mount functions at /app/convex (./convex:/app/convex:ro) and only the data at ${CONVEX_DATA_PATH}`, true)
  }
  return ok(id, `${convex.name}: nothing is mounted over ${CONVEX_ROOT}`, true)
}

/**
 * Convex's `INSTANCE_SECRET` (hex, as `generate_secret` makes it) and the updater's
 * `OWLAT_INSTANCE_SECRET`: set, not a placeholder, random-looking. Read from what the services
 * run with, falling back to the project's `.env`.
 */
export function checkSecrets(model: StackModel, dotenv: Record<string, string>, roles: StackRoles = {}): Check[] {
  const convex = convexService(model, roles)
  const checks: Check[] = []
  if (!convex) checks.push(skip('convex-instance-secret', 'the stack has no Convex service'))
  else {
    const value = convex.environment.INSTANCE_SECRET ?? dotenv.CONVEX_INSTANCE_SECRET ?? dotenv.INSTANCE_SECRET
    const fix = 'set INSTANCE_SECRET (CONVEX_INSTANCE_SECRET in .env) to openssl rand -hex 32, before the first start: changing it later invalidates the admin keys'
    const weak = value === undefined ? { level: 'fail' as const, why: 'is not set' } : secretWeakness(value)
    if (weak?.level === 'fail') checks.push(fail('convex-instance-secret', `${convex.name}: INSTANCE_SECRET ${weak.why}`, fix))
    else if (!/^[0-9a-f]+$/i.test(value!.trim())) checks.push(fail('convex-instance-secret', `${convex.name}: INSTANCE_SECRET is not a hex string`, fix))
    else if (weak) checks.push(warn('convex-instance-secret', `${convex.name}: INSTANCE_SECRET ${weak.why}`, fix))
    else checks.push(ok('convex-instance-secret', `${convex.name}: INSTANCE_SECRET is set, hex, ${value!.trim().length} digits`))
  }
  const owlat = model.services.map(s => s.environment.OWLAT_INSTANCE_SECRET).find(v => v !== undefined) ?? dotenv.OWLAT_INSTANCE_SECRET
  const fix = 'set OWLAT_INSTANCE_SECRET in .env to openssl rand -hex 32 and recreate web and updater'
  const weak = owlat === undefined ? { level: 'fail' as const, why: 'is not set' } : secretWeakness(owlat)
  if (!weak) checks.push(ok('owlat-instance-secret', 'OWLAT_INSTANCE_SECRET is set and random-looking'))
  else checks.push((weak.level === 'fail' ? fail : warn)('owlat-instance-secret', `OWLAT_INSTANCE_SECRET ${weak.why}`, fix))
  return checks
}

/** Host names only the compose network resolves: `convex`, `web`, any service, or one without a dot. */
function internalHost(host: string, model: StackModel): boolean {
  if (host === 'localhost' || host.endsWith('.localhost')) return false
  if (/^[\d.]+$/.test(host) || host.includes(':')) return false
  return model.services.some(s => s.name === host) || !host.includes('.')
}

/** The browser talks to Convex itself: a Docker-internal URL works for the server and never for the browser. */
export function checkPublicConvexUrls(model: StackModel, roles: StackRoles = {}): Check {
  const id = 'public-convex-url'
  const web = findService(model, roles.web, () => false, 'web')
  if (!web) return skip(id, 'the stack has no web service')
  const problems: string[] = []
  let seen = 0
  for (const key of ['NUXT_PUBLIC_CONVEX_URL', 'NUXT_PUBLIC_CONVEX_SITE_URL']) {
    const value = web.environment[key]
    if (!value) continue
    seen++
    let host: string
    try {
      host = new URL(value).hostname
    }
    catch {
      problems.push(`${key}=${value} is not a URL`)
      continue
    }
    if (internalHost(host, model)) problems.push(`${key}=${value} uses the Docker-internal host ${host}`)
  }
  if (problems.length > 0) return warn(id, `${problems.join('; ')}: the browser cannot reach it`, 'set it to a URL the browser reaches: http://localhost:3210 locally, https://convex.example.com behind a reverse proxy')
  if (seen === 0) return skip(id, `${web.name} sets neither NUXT_PUBLIC_CONVEX_URL nor NUXT_PUBLIC_CONVEX_SITE_URL`)
  return ok(id, 'the public Convex URLs are reachable host names')
}

/** Every service's logs rotate: json-file/local without `max-size` grow until the disk is full. */
export function checkLogRotation(model: StackModel): Check {
  const id = 'log-rotation'
  const unbounded = model.services
    .filter(s => s.profiles.length === 0)
    .filter((s) => {
      const driver = s.logging.driver ?? 'json-file'
      // `local` rotates by default; drivers that ship logs elsewhere keep nothing on disk.
      if (driver === 'local' || driver === 'none' || !['json-file'].includes(driver)) return false
      return !s.logging.options['max-size']
    })
    .map(s => s.name)
  if (unbounded.length > 0) {
    return warn(id, `no log rotation for ${unbounded.join(', ')}: their logs grow until the disk is full`, 'add logging: {driver: json-file, options: {max-size: "10m", max-file: "3"}} to each (or set it in the engine\'s daemon.json)')
  }
  return ok(id, 'every service rotates its logs')
}

/** Redis keeps the MTA's queue only with AOF (`--appendonly yes`). */
export function checkRedisAof(model: StackModel): Check {
  const id = 'redis-aof'
  const redis = findService(model, undefined, s => s.repository === 'docker.io/library/redis', 'redis')
  if (!redis) return skip(id, 'the stack has no Redis service')
  const at = redis.command.indexOf('--appendonly')
  const value = at >= 0 ? redis.command[at + 1]?.toLowerCase() : undefined
  if (value === 'yes') return ok(id, `${redis.name} runs with AOF (--appendonly yes)`)
  const configFile = redis.command.find(w => w.endsWith('.conf'))
  if (value === undefined && configFile) return warn(id, `${redis.name} reads ${configFile}; cannot tell whether AOF is on`, `add --appendonly yes to ${redis.name}'s command`)
  return warn(id, `${redis.name} runs without AOF: the MTA's queue is lost when it restarts`, `command: ["redis-server", "--appendonly", "yes", "--appendfsync", "everysec"]`)
}

/** A Convex dashboard published on every interface manages the database from anywhere the host is reachable. */
export function checkDashboardExposure(model: StackModel): Check {
  const id = 'dashboard-exposure'
  const dashboards = model.services.filter(s => (s.repository?.endsWith('/convex-dashboard') ?? false) || s.ports.some(p => p.target === DASHBOARD_PORT))
  if (dashboards.length === 0) return skip(id, 'the stack has no Convex dashboard')
  const open = dashboards.flatMap(s => s.ports.filter(p => p.hostIp === null || p.hostIp === '0.0.0.0' || p.hostIp === '::').map(p => `${s.name} on *:${p.published}`))
  if (open.length > 0) return warn(id, `the dashboard is published on every interface (${open.join(', ')})`, `publish it on 127.0.0.1 only ("127.0.0.1:${DASHBOARD_PORT}:${DASHBOARD_PORT}") and reach it through an SSH tunnel or an authenticated proxy`)
  return ok(id, 'the dashboard is published on loopback only')
}

/** `DKIM_KEYS` must be JSON, or the MTA signs nothing. */
export function checkDkimKeys(model: StackModel, dotenv: Record<string, string>): Check {
  const id = 'dkim-keys'
  const value = model.services.map(s => s.environment.DKIM_KEYS).find(v => v !== undefined) ?? dotenv.DKIM_KEYS
  if (value === undefined || value.trim() === '') return skip(id, 'DKIM_KEYS is not set (no MTA, or it does not sign)')
  try {
    const parsed: unknown = JSON.parse(value)
    if (typeof parsed !== 'object' || parsed === null) throw new Error('not an object or array')
    return ok(id, 'DKIM_KEYS parses as JSON')
  }
  catch (err) {
    return fail(id, `DKIM_KEYS is not valid JSON (${(err as Error).message.split('\n')[0]})`, 'check it with: echo "$DKIM_KEYS" | jq .')
  }
}

/** The checks that need nothing but the model and the project's `.env`. */
export function modelChecks(model: StackModel, dotenv: Record<string, string>, roles: StackRoles = {}): Check[] {
  return [
    checkConvexData(model, roles),
    checkConvexMount(model, roles),
    ...checkSecrets(model, dotenv, roles),
    checkPublicConvexUrls(model, roles),
    checkDashboardExposure(model),
    checkLogRotation(model),
    checkRedisAof(model),
  ]
}
