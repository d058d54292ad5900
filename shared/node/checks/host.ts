/**
 * The checks that look beyond the compose model: host ports (the engine and a bind attempt),
 * free space (statfs), Convex's admin key (its check endpoint), and, for `owlat doctor` only, the
 * network (DNS, outbound port 25, PTR). Each gathers its facts here and judges them with a pure
 * function the unit tests call with figures. Node only.
 */
import { formatBytes } from '../../format-bytes'
import { promises as dns } from 'node:dns'
import { statSync } from 'node:fs'
import { statfs } from 'node:fs/promises'
import { createConnection, createServer } from 'node:net'
import type Docker from 'dockerode'
import type { StackModel } from './model'
import { fail, ok, skip, warn, type Check } from './types'

const PROJECT_LABEL = 'com.docker.compose.project'

// ---------------------------------------------------------------------------------------------
// Ports

/** `3210/tcp` → who outside the stack holds it. */
export type TakenPorts = Map<string, string>

const portKey = (port: number, protocol: string) => `${port}/${protocol}`

/** Blocking: `up` cannot bind a port something else holds, and the new stack would not start. */
export function checkPorts(model: StackModel, taken: TakenPorts): Check {
  const id = 'ports'
  const published = model.services.filter(s => s.profiles.length === 0).flatMap(s => s.ports.map(p => ({ service: s.name, ...p })))
  if (published.length === 0) return skip(id, 'the stack publishes no host ports', true)
  const clashes = published.filter(p => taken.has(portKey(p.published, p.protocol)))
    .map(p => `${p.published}/${p.protocol} (${p.service}) is held by ${taken.get(portKey(p.published, p.protocol))}`)
  if (clashes.length > 0) {
    return fail(id, clashes.join('; '), 'stop what holds the port, or publish the service on another one (OWLAT_CONVEX_PORT, OWLAT_CONVEX_SITE_PORT, OWLAT_HTTP_PORT in .env)', true)
  }
  return ok(id, `ports ${[...new Set(published.map(p => p.published))].sort((a, b) => a - b).join(', ')} are free or the stack's own`, true)
}

function bindable(port: number, host: string | null): Promise<'free' | 'taken' | 'unknown'> {
  return new Promise((resolve) => {
    const server = createServer()
    server.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'EADDRINUSE' ? 'taken' : 'unknown'))
    server.listen({ port, host: host ?? undefined, exclusive: true }, () => server.close(() => resolve('free')))
  })
}

/**
 * Who holds the ports the stack publishes, outside project `project`: other containers (from
 * the engine), and (where this process shares the host's network, as the CLI and a sidecar on
 * the host do) any other process, found by trying to bind the port for an instant.
 */
export async function findTakenPorts(model: StackModel, project: string, docker: Docker | null): Promise<TakenPorts> {
  const taken: TakenPorts = new Map()
  const own = new Set<string>()
  if (docker) {
    for (const c of await docker.listContainers()) {
      const mine = c.Labels?.[PROJECT_LABEL] === project
      const keys = new Set((c.Ports ?? []).filter(p => p.PublicPort).map(p => portKey(p.PublicPort, p.Type)))
      // What the container asked the engine to bind: the same as Ports where the engine publishes
      // through its own proxy, and the only record where it does not (an engine without a bridge).
      const bindings = (await docker.getContainer(c.Id).inspect().catch(() => null))?.HostConfig?.PortBindings ?? {}
      for (const [spec, hosts] of Object.entries(bindings as Record<string, Array<{ HostPort?: string }> | null>)) {
        const protocol = spec.split('/')[1] ?? 'tcp'
        for (const host of hosts ?? []) if (host.HostPort) keys.add(portKey(Number(host.HostPort), protocol))
      }
      for (const key of keys) {
        if (mine) own.add(key)
        else taken.set(key, `container ${(c.Names?.[0] ?? c.Id).replace(/^\//, '')}`)
      }
    }
  }
  for (const service of model.services.filter(s => s.profiles.length === 0)) {
    for (const p of service.ports) {
      const key = portKey(p.published, p.protocol)
      if (p.protocol !== 'tcp' || own.has(key) || taken.has(key)) continue
      if (await bindable(p.published, p.hostIp) === 'taken') taken.set(key, 'another process on this host')
    }
  }
  return taken
}

// ---------------------------------------------------------------------------------------------
// Disk

export interface DiskPlace {
  /** What lives there, for the message: `Convex data`, `backups`. */
  label: string
  path: string
  free: number
  total: number
  /** Filesystem id (stat's dev): two places on one filesystem share its space. */
  dev: number
}

export const DISK_WARN_FRACTION = 0.2
const size = formatBytes

export interface DiskNeeds {
  /** What the pre-update backup takes (the newest backup's size is the estimate). */
  backupBytes: number
  /** What the new images take next to the old (the running images' size is the estimate). */
  imageBytes: number
}

/**
 * Blocking. `data` holds Convex's data and, being the engine's own disk for a named volume, the
 * images too; `backups` holds the backup. Fails when what the update writes does not fit on
 * each filesystem; warns under 20 % free.
 */
export function checkDisk(places: { data: DiskPlace | null, backups: DiskPlace | null }, needs: DiskNeeds, notes: string[] = []): Check {
  const id = 'disk'
  const known = [places.data, places.backups].filter((p): p is DiskPlace => p !== null)
  if (known.length === 0) return skip(id, `cannot see the disks${notes.length ? ` (${notes.join('; ')})` : ''}`, true)
  // Images land where the engine keeps its data; without the data place, count them on the backups' disk.
  const needByDev = new Map<number, number>()
  const add = (place: DiskPlace | null, bytes: number) => {
    if (place) needByDev.set(place.dev, (needByDev.get(place.dev) ?? 0) + bytes)
  }
  add(places.data ?? places.backups, needs.imageBytes)
  add(places.backups ?? places.data, needs.backupBytes)
  const figures = known.map(p => `${p.label} (${p.path}): ${size(p.free)} free of ${size(p.total)} (${Math.round((p.free / Math.max(1, p.total)) * 100)} %)`)
  const seen = new Set<number>()
  for (const place of known) {
    if (seen.has(place.dev)) continue
    seen.add(place.dev)
    const need = needByDev.get(place.dev) ?? 0
    if (place.free < need) {
      return fail(id, `${figures.join('; ')}: the new images and a backup need ${size(need)} there`, 'free space (docker image prune, old backups under OWLAT_DIR/backups) or grow the disk before updating; never delete the convex-data volume', true)
    }
  }
  const low = known.filter(p => p.free < p.total * DISK_WARN_FRACTION)
  const suffix = notes.length ? ` (${notes.join('; ')})` : ''
  if (low.length > 0) return warn(id, `${figures.join('; ')}: under 20 % free${suffix}`, 'free space soon: Convex needs room for its database and each update pulls images and takes a backup', true)
  return ok(id, `${figures.join('; ')}; an update needs about ${size(needs.backupBytes + needs.imageBytes)}${suffix}`, true)
}

/** statfs of the filesystem holding `path`, or null when this process cannot see it. */
export async function diskPlace(label: string, path: string): Promise<DiskPlace | null> {
  try {
    const stats = await statfs(path)
    return { label, path, free: stats.bavail * stats.bsize, total: stats.blocks * stats.bsize, dev: statSync(path).dev }
  }
  catch {
    return null
  }
}

// ---------------------------------------------------------------------------------------------
// Convex admin key

/** The deploy services' Convex URL and admin key, as `npx convex deploy` reads them. */
export function deployCredentials(model: StackModel, deployServices: readonly string[]): { url: string, key: string } | null {
  for (const name of deployServices) {
    const env = model.services.find(s => s.name === name)?.environment ?? {}
    const url = env.CONVEX_SELF_HOSTED_URL
    const key = env.CONVEX_SELF_HOSTED_ADMIN_KEY ?? env.CONVEX_ADMIN_KEY
    if (url !== undefined && key !== undefined) return { url, key }
  }
  return null
}

/**
 * Blocking when the update deploys functions: a key the backend refuses fails `deploy-functions`
 * after the pull. Asks the backend's `/api/check_admin_key`.
 */
export async function checkAdminKey(credentials: { url: string, key: string } | null, needed: boolean, signal?: AbortSignal): Promise<Check> {
  const id = 'convex-admin-key'
  if (!credentials) return skip(id, needed ? 'the deploy service names no CONVEX_SELF_HOSTED_URL and admin key' : 'no deploy service uses an admin key', needed)
  const fix = 'regenerate it (docker compose exec convex ./generate_admin_key.sh) and set CONVEX_ADMIN_KEY in .env'
  if (credentials.key.trim() === '') return fail(id, 'CONVEX_ADMIN_KEY is empty', fix, needed)
  let status: number
  try {
    const res = await fetch(new URL('/api/check_admin_key', credentials.url), {
      headers: { authorization: `Convex ${credentials.key.trim()}` },
      signal: AbortSignal.any([AbortSignal.timeout(5000), ...(signal ? [signal] : [])]),
    })
    status = res.status
    await res.body?.cancel()
  }
  catch (err) {
    return warn(id, `cannot reach Convex at ${credentials.url} to check the admin key (${(err as Error).message})`, 'start Convex (docker compose up -d convex), then check again', false)
  }
  if (status >= 200 && status < 300) return ok(id, `Convex at ${credentials.url} accepts CONVEX_ADMIN_KEY`, needed)
  if (status === 401 || status === 403) return fail(id, `Convex at ${credentials.url} refuses CONVEX_ADMIN_KEY (HTTP ${status}); deploy-functions would fail after the pull`, fix, needed)
  return warn(id, `Convex at ${credentials.url} answered HTTP ${status} to the admin-key check`, 'look at owlat logs convex', false)
}

// ---------------------------------------------------------------------------------------------
// Network (doctor only)

/** The site's host name resolves. */
export async function checkSiteDns(siteUrl: string | undefined): Promise<Check> {
  const id = 'dns'
  if (!siteUrl) return skip(id, 'NUXT_PUBLIC_SITE_URL is not set')
  let host: string
  try {
    host = new URL(siteUrl).hostname
  }
  catch {
    return fail(id, `NUXT_PUBLIC_SITE_URL=${siteUrl} is not a URL`, 'set it to the address people open, e.g. https://owlat.example.com')
  }
  if (host === 'localhost' || /^[\d.]+$/.test(host)) return skip(id, `${host} needs no DNS`)
  try {
    const addresses = await dns.lookup(host, { all: true })
    return ok(id, `${host} resolves to ${addresses.map(a => a.address).join(', ')}`)
  }
  catch (err) {
    return fail(id, `${host} does not resolve (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, `add an A record for ${host} pointing at this server`)
  }
}

/** Outbound SMTP: many clouds block port 25. */
export async function checkSmtpEgress(host = 'gmail-smtp-in.l.google.com', timeoutMs = 5000): Promise<Check> {
  const id = 'smtp-egress'
  const result = await new Promise<'open' | string>((resolve) => {
    const socket = createConnection({ host, port: 25, timeout: timeoutMs })
    socket.once('connect', () => {
      socket.destroy()
      resolve('open')
    })
    socket.once('timeout', () => {
      socket.destroy()
      resolve('timed out')
    })
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message))
  })
  if (result === 'open') return ok(id, `outbound port 25 reaches ${host}`)
  if (result === 'ENOTFOUND' || result === 'EAI_AGAIN') return skip(id, `cannot resolve ${host} from here (${result}), so port 25 was not tried`)
  return fail(id, `outbound port 25 to ${host}: ${result}`, 'ask the provider to open port 25, or send through a relay')
}

/** The MTA's EHLO name resolves to an address whose PTR names it back. */
export async function checkPtr(ehloName: string | undefined): Promise<Check> {
  const id = 'ptr'
  if (!ehloName) return skip(id, 'no EHLO name set for the MTA (MTA_HOSTNAME / EHLO_HOSTNAME)')
  let addresses: string[]
  try {
    addresses = await dns.resolve4(ehloName)
  }
  catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ECONNREFUSED' || code === 'ETIMEOUT' || code === 'EAI_AGAIN') return skip(id, `no DNS resolver answers here (${code})`)
    return fail(id, `the EHLO name ${ehloName} does not resolve (${code})`, `add an A record for ${ehloName}`)
  }
  for (const address of addresses) {
    const names = await dns.reverse(address).catch(() => [] as string[])
    if (!names.map(n => n.replace(/\.$/, '').toLowerCase()).includes(ehloName.toLowerCase())) {
      return fail(id, `the PTR of ${address} is ${names.join(', ') || 'missing'}, not the EHLO name ${ehloName}; receivers reject the mail`, `ask the provider to set the PTR of ${address} to ${ehloName} (check: dig -x ${address} +short)`)
    }
  }
  return ok(id, `${ehloName} → ${addresses.join(', ')} → ${ehloName}`)
}
