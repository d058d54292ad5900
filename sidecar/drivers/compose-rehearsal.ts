/**
 * The compose driver's rehearsal: the release on a throwaway compose project
 * `<project>-rehearsal-<short job id>` whose named volumes are copies of production's, restored
 * from a backup taken for the rehearsal alone (compose-backup.ts, into `OWLAT_DIR/rehearsals/<jobId>/`,
 * deleted once restored). Its compose file (and the operator's override, both rewritten) lives in
 * that folder: no published ports, no container names, no host or external networks, every network
 * of its own and internal (a copy of the data must not send mail or call webhooks), every volume
 * one of the copies. Everything it creates carries `REHEARSAL_LABEL=<jobId>` and the production
 * project's name, so a teardown after a restart, or a sweep, finds it from the job id alone.
 * Nothing here stops, recreates or connects to a production container.
 */
import { runnableImage, type BundledImages } from './bundled-images'
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type Docker from 'dockerode'
import { parseDocument, stringify } from 'yaml'
import { MAX_ALIAS_COUNT } from '../../shared/compose-policy'
import type { OwlatConfig } from '../../shared/config'
import { formatBytes } from '../../shared/format-bytes'
import { backupBytes, listBackups } from '../../shared/node/backups'
import { parseCompose } from '../compose-file'
import { backupVolumes, restoreBackup } from './compose-backup'
import { ComposeCli, OVERRIDE_FILE, overrideFile, type ComposeCommand } from './compose-cli'
import { renderComposeConfig } from './compose-config'
import { ServiceLogs } from './compose-logs'
import { defaultServices, parseComposeModel, withOverride, type ComposeModel, type DeployStep } from './compose-project'
import { ensureImage, freeBytes, localImageId, PROJECT_LABEL, projectVolumes } from './docker-engine'
import type { DriverRehearsal, StepContext, WatchSample } from './types'
import { formatSeconds } from './web-probe'

/** On every container, network and volume a rehearsal makes: the job it belongs to. */
export const REHEARSAL_LABEL = 'io.owlat.rehearsal'
/** The production project the rehearsal copied, so a sweep leaves another stack's rehearsals alone. */
export const REHEARSAL_OF_LABEL = 'io.owlat.rehearsal.of'
/** Containers the backup helpers create for a job (docker-engine.ts `archiveVolumes`). */
const JOB_LABEL = 'io.owlat.updater.job'
/** How long a teardown lets a compose command of a dead sidecar's rehearsal finish before ending it. */
const ORPHAN_GRACE_MS = 5000
const COPY_BYTES_CACHE_MS = 60_000

/** One look at a compose project's services (compose.ts `checkStack`). */
export type StackCheck = { ok: true } | { ok: false, fatal: boolean, detail: string }

/** Where a stack check looks: which project, whose output it keeps, how it reaches the web. */
export interface StackTarget {
  project: string
  logs: ServiceLogs | null
  /** When `up` last ran on it: the output kept on a failure is what came after. */
  upAt: number | null
  /** Whether the web can only be asked from inside its container (a rehearsal's, on a network the updater is not on). */
  webInside: boolean
}

/** What the rehearsal borrows from the compose driver: its settings and its ways of judging a stack. */
export interface RehearsalHost {
  docker: Docker
  /** Images offline bundles loaded, by pinned reference (bundled-images.ts). */
  bundledImages: () => BundledImages
  config: OwlatConfig
  /** The production project. */
  project: string
  updaterService: string
  composeCommand: () => Promise<ComposeCommand>
  helperImage: () => Promise<string>
  /** Named volumes of the updater's own (its journal): never copied. */
  updaterVolumes: () => Promise<Set<string>>
  /** What an update needs on the disk (new images, a backup), at least OWLAT_MIN_FREE_DISK_MB. */
  updateNeedBytes: () => Promise<number>
  /** The update's preflight checks of the target (engine, policy, compose config, stack checks), none of which change anything. */
  checkTarget: (ctx: StepContext) => Promise<void>
  deploySteps: (model: ComposeModel) => { steps: DeployStep[], inactive: DeployStep[] }
  waitForStack: (target: StackTarget, model: ComposeModel, services: string[], version: string, timeoutMs: number, signal: AbortSignal) => Promise<StackCheck>
  checkStack: (target: StackTarget, model: ComposeModel, services: string[], version: string, signal: AbortSignal) => Promise<StackCheck>
  keepFailingOutput: (ctx: StepContext, target: StackTarget, model: ComposeModel, services: string[], version: string, detail: string) => void
  verifyTimeout: (ctx: StepContext, services: string[], texts: string[]) => Promise<number>
}

/** A valid compose project name for the job: readable prefix of the id, plus a hash so odd ids stay apart. */
export function rehearsalProject(project: string, jobId: string): string {
  const readable = jobId.toLowerCase().replace(/[^a-z0-9]/g, '').slice(0, 8)
  const hash = createHash('sha256').update(jobId).digest('hex').slice(0, 4)
  return `${project}-rehearsal-${readable}${hash}`
}

interface Running {
  logs: ServiceLogs
  upAt: number
}

export class ComposeRehearsal implements DriverRehearsal {
  private readonly running = new Map<string, Running>()
  private measured: { at: number, bytes: number } | null = null

  constructor(private readonly host: RehearsalHost) {}

  /** `OWLAT_DIR/rehearsals`: the copies' backups, then the rehearsal's compose files. */
  private get root(): string {
    return join(this.host.config.owlatDir, 'rehearsals')
  }

  private dir(jobId: string): string {
    return join(this.root, jobId)
  }

  /** The rehearsal's compose file (the release's, rewritten by `stage`). */
  file(jobId: string): string {
    return join(this.dir(jobId), 'docker-compose.yml')
  }

  private volumeName(jobId: string, composeName: string): string {
    return `${rehearsalProject(this.host.project, jobId)}_${composeName}`
  }

  private labels(jobId: string): Record<string, string> {
    return { [REHEARSAL_LABEL]: jobId, [REHEARSAL_OF_LABEL]: this.host.project }
  }

  private async cli(jobId: string): Promise<ComposeCli> {
    return new ComposeCli({
      command: await this.host.composeCommand(),
      project: rehearsalProject(this.host.project, jobId),
      // The production folder: `.env` and relative paths resolve as they do for the stack.
      projectDir: this.host.config.owlatDir,
      overrideDir: this.dir(jobId),
      pidFile: join(this.host.config.dataDir, 'updater', `compose-${rehearsalProject(this.host.project, jobId)}.pid`),
      bundledImages: this.host.bundledImages,
    })
  }

  /** The production volumes a rehearsal copies: the project's named volumes but the updater's own. */
  private async dataVolumes() {
    const own = await this.host.updaterVolumes()
    return (await projectVolumes(this.host.docker, this.host.project)).filter(v => !own.has(v.name))
  }

  /** Measured at most once a minute for the host facts (every `/v1/health`): the engine's `df` reads every volume. */
  async copyBytes(): Promise<number> {
    if (this.measured && Date.now() - this.measured.at < COPY_BYTES_CACHE_MS) return this.measured.bytes
    const bytes = await this.measure()
    this.measured = { at: Date.now(), bytes }
    return bytes
  }

  private async measure(): Promise<number> {
    const names = new Set((await this.dataVolumes()).map(v => v.name))
    if (names.size === 0) return 0
    // The engine measures each volume; where it cannot, the newest backup says how large they were.
    const df = await this.host.docker.df().catch(() => null) as { Volumes?: Array<{ Name: string, UsageData?: { Size?: number } }> } | null
    const sizes = (df?.Volumes ?? []).filter(v => names.has(v.Name)).map(v => v.UsageData?.Size ?? -1)
    if (sizes.length === names.size && sizes.every(s => s >= 0)) return sizes.reduce((a, b) => a + b, 0)
    const newest = listBackups(join(this.host.config.owlatDir, 'backups'))[0]
    return newest ? backupBytes(newest.manifest) : 0
  }

  async preflight(ctx: StepContext): Promise<void> {
    await this.host.checkTarget(ctx)
    const copy = await this.measure()
    const usual = await this.host.updateNeedBytes()
    const free = await freeBytes(this.host.config.owlatDir)
    const need = copy + usual
    if (free < need) {
      throw new Error(`the copy of the data (${formatBytes(copy)}) and what an update needs (${formatBytes(usual)}: new images, a backup, OWLAT_MIN_FREE_DISK_MB) come to ${formatBytes(need)}, but ${this.host.config.owlatDir} has ${formatBytes(free)} free`)
    }
    ctx.log(`the copy of the data takes ${formatBytes(copy)}, an update ${formatBytes(usual)}; ${formatBytes(free)} free in ${this.host.config.owlatDir}`)
  }

  async copy(ctx: StepContext): Promise<void> {
    const { docker } = this.host
    const volumes = await this.dataVolumes()
    if (volumes.length === 0) return ctx.skip(`project ${this.host.project} has no named volumes to copy`)
    const image = await this.host.helperImage()
    await ensureImage(docker, image)
    // A fresh backup for this rehearsal alone, outside OWLAT_DIR/backups so no update's backup is pruned for it.
    const manifest = await backupVolumes(docker, {
      backupsDir: this.root,
      jobId: ctx.jobId,
      project: this.host.project,
      fromVersion: ctx.fromVersion,
      image,
      volumes: volumes.map(v => v.name),
    })
    ctx.log(`backed up ${manifest.volumes.map(v => `${v.volume} (${formatBytes(v.bytes)})`).join(', ')} to ${this.dir(ctx.jobId)}`)
    const copyOf = new Map(volumes.map(v => [v.name, this.volumeName(ctx.jobId, v.composeName)]))
    for (const name of copyOf.values()) await this.createVolume(ctx.jobId, name)
    await restoreBackup(docker, this.dir(ctx.jobId), image, () => true, v => copyOf.get(v)!)
    for (const [from, to] of copyOf) ctx.log(`restored ${from} into the copy ${to}`)
    // The copies hold the data now: the archives would only take the disk twice.
    for (const entry of readdirSync(this.dir(ctx.jobId))) rmSync(join(this.dir(ctx.jobId), entry), { recursive: true, force: true })
  }

  private async createVolume(jobId: string, name: string): Promise<boolean> {
    const existing = await this.host.docker.getVolume(name).inspect().catch(() => null) as { Labels?: Record<string, string> | null } | null
    if (existing) {
      if (existing.Labels?.[REHEARSAL_LABEL] !== jobId) throw new Error(`volume ${name} exists and is not this rehearsal's; refusing to use it`)
      return false
    }
    await this.host.docker.createVolume({ Name: name, Labels: this.labels(jobId) })
    return true
  }

  async stage(ctx: StepContext): Promise<void> {
    const project = rehearsalProject(this.host.project, ctx.jobId)
    const overridePath = overrideFile(this.host.config.owlatDir)
    const overrideText = overridePath ? readFileSync(overridePath, 'utf8') : null
    const model = withOverride(parseComposeModel(ctx.compose), overrideText)
    const deploy = this.host.deploySteps(model).steps.map(step => step.service)
    const keep = new Set([...this.services(model), ...deploy])
    const base = parseYaml(ctx.compose, 'the release\'s compose file')
    const override = overrideText === null ? null : parseYaml(overrideText, OVERRIDE_FILE)
    const external = new Set([...externalNetworks(base), ...(override ? externalNetworks(override) : [])])
    const opts = { keep, external, labels: this.labels(ctx.jobId), volumeName: (name: string) => this.volumeName(ctx.jobId, name) }
    const files: Array<[string, Record<string, unknown>]> = [[this.file(ctx.jobId), rewrite(base, { ...opts, base: true })]]
    if (override) files.push([join(this.dir(ctx.jobId), OVERRIDE_FILE), rewrite(override, { ...opts, base: false })])
    mkdirSync(this.dir(ctx.jobId), { recursive: true })
    for (const [path, doc] of files) writeFileSync(path, stringify(doc), { mode: 0o600 })
    // Volumes the copy does not hold (new in this release, or external in production) start empty, as `up` would make them.
    for (const name of new Set(files.flatMap(([, doc]) => Object.keys(dict(doc.volumes))))) {
      if (await this.createVolume(ctx.jobId, this.volumeName(ctx.jobId, name))) ctx.log(`volume ${name} is not one production's copy holds: the rehearsal's starts empty`)
    }
    await renderComposeConfig(await this.cli(ctx.jobId), this.file(ctx.jobId), ctx.signal, { override: true })
    ctx.log(`wrote ${this.file(ctx.jobId)}${override ? ` and its ${OVERRIDE_FILE}` : ''} (web ${parseCompose(ctx.compose).version}), which compose accepts: project ${project}, ${[...keep].join(', ')}`)
    ctx.log(`no published ports, no container names, no host or external networks; its networks are its own and internal; its volumes are the copies`)
  }

  /** The rehearsal's pull: the images of its own file (the update's `pull` reads the staged one, which a rehearsal never writes). */
  async pull(ctx: StepContext): Promise<void> {
    const model = parseComposeModel(readFileSync(this.file(ctx.jobId), 'utf8'))
    const profiles = [...new Set(this.host.deploySteps(model).steps.flatMap(step => step.profiles))]
    await (await this.cli(ctx.jobId)).run({ file: this.file(ctx.jobId), args: ['pull'], profiles, signal: ctx.signal, onLine: ctx.log })
    for (const [service, spec] of this.model(ctx.jobId).services) {
      if (!spec.image) continue
      const id = await localImageId(this.host.docker, runnableImage(spec.image, this.host.bundledImages()))
      if (!id) throw new Error(`${service}: ${spec.image} is not present after the pull`)
      ctx.log(`${service}: ${spec.image} is ${id}`)
    }
  }

  async deployFunctions(ctx: StepContext): Promise<void> {
    const { steps } = this.host.deploySteps(this.model(ctx.jobId))
    if (steps.length === 0) return ctx.skip('the release marks no one-shot service for this step')
    const cli = await this.cli(ctx.jobId)
    for (const step of steps) {
      // With its dependencies: the copy's own backend starts first, and the functions go to it.
      ctx.log(`running ${step.service} against the copy`)
      await cli.run({ file: this.file(ctx.jobId), args: ['run', '--rm', '-T', step.service], profiles: step.profiles, signal: ctx.signal, onLine: ctx.log })
      ctx.log(`${step.service} finished`)
    }
  }

  async start(ctx: StepContext): Promise<void> {
    const project = rehearsalProject(this.host.project, ctx.jobId)
    const services = this.services(this.model(ctx.jobId))
    this.running.get(ctx.jobId)?.logs.close()
    const logs = new ServiceLogs(this.host.docker, project, ctx.log)
    await logs.start()
    const upAt = Date.now()
    this.running.set(ctx.jobId, { logs, upAt })
    ctx.log(`up -d ${services.join(' ')} in project ${project}`)
    await (await this.cli(ctx.jobId)).run({ file: this.file(ctx.jobId), args: ['up', '-d', '--remove-orphans', ...services], signal: ctx.signal, onLine: ctx.log })
  }

  async verify(ctx: StepContext, version: string): Promise<void> {
    const model = this.model(ctx.jobId)
    const services = this.services(model)
    const target = this.target(ctx.jobId)
    const timeout = await this.host.verifyTimeout(ctx, services, this.texts(ctx.jobId))
    ctx.log(`waiting up to ${formatSeconds(timeout)} for ${services.join(', ')} of ${target.project} to run healthy at their pinned images, and web to answer ${version}`)
    const result = await this.host.waitForStack(target, model, services, version, timeout, ctx.signal)
    if (!result.ok) {
      this.host.keepFailingOutput(ctx, target, model, services, version, result.detail)
      throw new Error(result.fatal ? result.detail : `the rehearsal did not become healthy within ${formatSeconds(timeout)} (last: ${result.detail})`)
    }
    ctx.log(`every service of the rehearsal runs healthy at its pinned image; web answers ${version}`)
  }

  async sample(ctx: StepContext, version: string): Promise<WatchSample> {
    const model = this.model(ctx.jobId)
    const services = this.services(model)
    const target = this.target(ctx.jobId)
    const result = await this.host.checkStack(target, model, services, version, ctx.signal)
    if (result.ok) return { ok: true, detail: `${services.join(', ')} of the rehearsal run healthy at their pinned images; web answers ${version}` }
    this.host.keepFailingOutput(ctx, target, model, services, version, result.detail)
    return { ok: false, detail: result.detail }
  }

  async teardown(ctx: StepContext): Promise<void> {
    for (const line of await this.remove(ctx.jobId)) ctx.log(line)
  }

  async sweep(keepJobIds: readonly string[]): Promise<string[]> {
    const { docker } = this.host
    const filters = { label: [`${REHEARSAL_OF_LABEL}=${this.host.project}`] }
    const jobs = new Set<string>()
    for (const c of await docker.listContainers({ all: true, filters })) jobs.add(c.Labels[REHEARSAL_LABEL] ?? '')
    for (const n of await docker.listNetworks({ filters })) jobs.add(n.Labels?.[REHEARSAL_LABEL] ?? '')
    for (const v of (await docker.listVolumes({ filters })).Volumes ?? []) jobs.add(v.Labels?.[REHEARSAL_LABEL] ?? '')
    if (existsSync(this.root)) for (const name of readdirSync(this.root)) jobs.add(name)
    const lines: string[] = []
    for (const jobId of [...jobs].filter(j => j && !keepJobIds.includes(j)).sort()) {
      lines.push(...(await this.remove(jobId)).map(line => `rehearsal ${jobId}: ${line}`))
    }
    return lines
  }

  /** Removes every container, network and volume of the job's rehearsal, and its folder; safe on nothing. */
  private async remove(jobId: string): Promise<string[]> {
    const { docker } = this.host
    const project = rehearsalProject(this.host.project, jobId)
    const lines: string[] = []
    this.running.get(jobId)?.logs.close()
    this.running.delete(jobId)
    // A compose command a dead sidecar left running could create containers after they are removed.
    const orphan = await this.cli(jobId).then(cli => cli.settleOrphan(ORPHAN_GRACE_MS)).catch(() => null)
    if (orphan) lines.push(orphan)
    const mine = { label: [`${REHEARSAL_LABEL}=${jobId}`] }
    const volumes = ((await docker.listVolumes({ filters: mine })).Volumes ?? []).map(v => v.Name)
    const containers = new Map<string, string>()
    for (const filters of [mine, { label: [`${PROJECT_LABEL}=${project}`] }, { label: [`${JOB_LABEL}=${jobId}`] }, ...volumes.map(v => ({ volume: [v] }))]) {
      for (const c of await docker.listContainers({ all: true, filters })) containers.set(c.Id, c.Names[0]?.replace(/^\//, '') ?? c.Id.slice(0, 12))
    }
    for (const [id, name] of containers) {
      await docker.getContainer(id).remove({ force: true }).catch(ignoreMissing)
      lines.push(`removed container ${name}`)
    }
    const networks = new Map<string, string>()
    for (const filters of [mine, { label: [`${PROJECT_LABEL}=${project}`] }]) {
      for (const n of await docker.listNetworks({ filters })) networks.set(n.Id, n.Name)
    }
    for (const [id, name] of networks) {
      await docker.getNetwork(id).remove().catch(ignoreMissing)
      lines.push(`removed network ${name}`)
    }
    for (const name of volumes) {
      await docker.getVolume(name).remove().catch(ignoreMissing)
      lines.push(`removed the copy ${name}`)
    }
    if (existsSync(this.dir(jobId))) {
      rmSync(this.dir(jobId), { recursive: true, force: true })
      lines.push(`removed ${this.dir(jobId)}`)
    }
    if (lines.length === 0) lines.push(`nothing of rehearsal ${project} was left`)
    return lines
  }

  private texts(jobId: string): string[] {
    const override = join(this.dir(jobId), OVERRIDE_FILE)
    return [readFileSync(this.file(jobId), 'utf8'), ...(existsSync(override) ? [readFileSync(override, 'utf8')] : [])]
  }

  private model(jobId: string): ComposeModel {
    const [base, override] = this.texts(jobId)
    return withOverride(parseComposeModel(base!), override ?? null)
  }

  /** What the rehearsal runs and judges: every default service but the updater (an update's managed services). */
  private services(model: ComposeModel): string[] {
    return defaultServices(model).filter(s => s !== this.host.updaterService)
  }

  private target(jobId: string): StackTarget {
    const running = this.running.get(jobId)
    return { project: rehearsalProject(this.host.project, jobId), logs: running?.logs ?? null, upAt: running?.upAt ?? null, webInside: true }
  }
}

function ignoreMissing(err: { statusCode?: number }): void {
  if (err.statusCode !== 404) throw err
}

function isDict(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function dict(value: unknown): Record<string, unknown> {
  return isDict(value) ? value : {}
}

function parseYaml(text: string, what: string): Record<string, unknown> {
  const doc = parseDocument(text, { merge: true })
  if (doc.errors.length > 0) throw new Error(`${what} is not valid YAML: ${doc.errors[0]!.message.split('\n')[0]}`)
  const js: unknown = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT })
  return isDict(js) ? js : {}
}

function externalNetworks(doc: Record<string, unknown>): string[] {
  return Object.entries(dict(doc.networks)).filter(([, n]) => isDict(n) && n.external).map(([name]) => name)
}

interface RewriteOptions {
  keep: Set<string>
  external: Set<string>
  labels: Record<string, string>
  volumeName: (composeName: string) => string
  /** The release's file (defines the default network) rather than the override merged on top. */
  base: boolean
}

/**
 * The rehearsal's version of a compose file (the release's or the override): only the services it
 * runs, none reachable from outside or able to reach production, every volume a copy.
 */
export function rewrite(doc: Record<string, unknown>, opts: RewriteOptions): Record<string, unknown> {
  const out: Record<string, unknown> = { ...doc }
  delete out.name
  const services: Record<string, unknown> = {}
  for (const [name, raw] of Object.entries(dict(doc.services))) {
    if (!opts.keep.has(name) || !isDict(raw)) continue
    // Published ports would take production's; a fixed name or external link would be production's
    // container; a restart policy would bring a leftover back after a reboot.
    const { ports: _ports, container_name: _name, external_links: _links, restart: _restart, ...kept } = raw
    const service: Record<string, unknown> = kept
    const mode = typeof service.network_mode === 'string' ? service.network_mode : null
    // `none` is as isolated as it gets; `service:X` of a service it runs too stays inside the rehearsal.
    if (mode !== null && mode !== 'none' && !(mode.startsWith('service:') && opts.keep.has(mode.slice(8)))) delete service.network_mode
    if (Array.isArray(service.networks)) service.networks = service.networks.filter(n => !opts.external.has(String(n)))
    else if (isDict(service.networks)) service.networks = Object.fromEntries(Object.entries(service.networks).filter(([n]) => !opts.external.has(n)))
    if (Array.isArray(service.depends_on)) service.depends_on = service.depends_on.filter(s => opts.keep.has(String(s)))
    else if (isDict(service.depends_on)) service.depends_on = Object.fromEntries(Object.entries(service.depends_on).filter(([s]) => opts.keep.has(s)))
    if (Array.isArray(service.links)) service.links = service.links.filter(l => opts.keep.has(String(l).split(':')[0]!))
    service.labels = Array.isArray(service.labels)
      ? [...service.labels.filter(l => !Object.keys(opts.labels).some(k => String(l).startsWith(`${k}=`))), ...Object.entries(opts.labels).map(([k, v]) => `${k}=${v}`)]
      : { ...dict(service.labels), ...opts.labels }
    const writable = writableBind(service.volumes)
    if (writable) throw new Error(`${name} bind-mounts ${writable} writable: a rehearsal copies named volumes only, so it would write to production's files`)
    services[name] = service
  }
  out.services = services
  const networks: Record<string, unknown> = {}
  for (const [name, raw] of Object.entries(dict(doc.networks))) {
    if (opts.external.has(name)) continue
    const network = { ...dict(raw) }
    // A fixed name would be production's network.
    delete network.name
    networks[name] = { ...network, internal: true, labels: { ...dict(network.labels), ...opts.labels } }
  }
  if (opts.base && !('default' in networks)) networks.default = { internal: true, labels: opts.labels }
  out.networks = networks
  // Every volume is the rehearsal's copy (made by `copy`, or empty by `stage`), never production's.
  out.volumes = Object.fromEntries(Object.keys(dict(doc.volumes)).map(name => [name, { external: true, name: opts.volumeName(name) }]))
  return out
}

/** The first host path a service bind-mounts without `ro`, or null. */
function writableBind(volumes: unknown): string | null {
  for (const entry of Array.isArray(volumes) ? volumes : []) {
    if (typeof entry === 'string') {
      const [source, target, mode] = entry.split(':')
      // A named volume's name has no slash; `/path` alone is an anonymous volume.
      const bind = target !== undefined && /^[./~$]|\//.test(source!)
      if (bind && !(mode ?? '').split(',').includes('ro')) return source!
    }
    else if (isDict(entry) && entry.type === 'bind' && entry.read_only !== true) {
      return String(entry.source)
    }
  }
  return null
}
