/**
 * The `compose` driver (production): the stack is a Docker Compose project in OWLAT_DIR.
 * Changes go through the compose CLI (`compose-cli.ts`), state comes from the Engine API by
 * compose labels (`docker-engine.ts`). Files in OWLAT_DIR: `docker-compose.yml` (current),
 * `docker-compose.next.yml` (staged), `docker-compose.prev.yml` (kept by promote),
 * `backups/<jobId>/` (an update's data backup), `backups/owlat-YYYYMMDD-HHMMSS.tar.gz` (`owlat backup`).
 *
 * A restore job (kind `restore`, `owlat restore FILE`) runs the same steps: preflight checks the
 * archive, backup takes the undo archive (`…-before-restore.tar.gz`), promote puts the archive's
 * volumes and files back, recreate and verify bring up what it holds; a failure after promote
 * puts the undo archive back the same way.
 *
 * How `verify` asks the web for its version (OWLAT_WEB_VERSION_CHECK):
 * - `http` (default, production): the signed `GET /api/system/version` on OWLAT_WEB_URL
 *   (default `http://web:3000`, the web's name on the compose network), as the local driver does.
 * - `exec`: `cat /version` inside the web container through the Engine API, for stacks the
 *   updater cannot reach over a network (the tests run every container with `network_mode: none`).
 */
import { randomUUID } from 'node:crypto'
import { createReadStream, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseEnv } from 'node:util'
import { setTimeout as sleep } from 'node:timers/promises'
import type Docker from 'dockerode'
import { z } from 'zod'
import { checkComposePolicy, composePolicyOptionsFromEnv, describePolicyViolations, type ComposePolicyOptions } from '../../shared/compose-policy'
import type { OwlatConfig } from '../../shared/config'
import { blockingFailures, diskFacts, formatCheck, parseStackModel, stackChecks, updateNeedBytes, type Check } from '../../shared/node/checks'
import type { HostFacts, ServiceHealth } from '../../shared/schemas/job'
import type { ServiceLogEntry } from '../../shared/service-output'
import { parseCompose, readCompose, tagVersion } from '../compose-file'
import { listArchives, verifyArchive } from '../../shared/node/backups'
import type { BackupReason } from '../../shared/schemas/backup'
import { backupVolumes, pruneBackups, readBackup, restoreBackup } from './compose-backup'
import { ComposeRehearsal, type StackCheck, type StackTarget } from './compose-rehearsal'
import { applyArchive, createArchive, inspectArchive } from './compose-archive'
import { BUNDLED_IMAGES_FILE, readBundledImages, recordBundledImages, runnableImage, type BundledImages } from './bundled-images'
import { ComposeCli, detectCompose, overrideFile } from './compose-cli'
import { renderComposeConfig } from './compose-config'
import { ServiceLogs } from './compose-logs'
import { activeProfiles, defaultServices, DEPLOY_LABEL, deploySteps, FUNCTIONS_PROFILE, FUNCTIONS_SERVICE, parseComposeModel, projectName, withOverride, type ComposeModel, type DeployStep } from './compose-project'
import { launchSelfUpdate } from './compose-self-update'
import { connectEngine, engineInfo, ensureImage, execIn, freeBytes, localImageId, mib, projectContainers, projectVolumes, type ServiceContainer } from './docker-engine'
import { keepServiceOutput } from './service-output'
import { readSettings, stackSettingsShape } from './stack-settings'
import { promoteCompose, restoreCompose, stageCompose } from './stack-files'
import type { Driver, DriverArchives, StepContext, WatchSample } from './types'
import { formatSeconds, probeWeb } from './web-probe'
import { signRequest } from '../../shared/request-signing'
import { versionInfoSchema } from '../../shared/schemas/api'

const settingsSchema = z.object({
  ...stackSettingsShape,
  OWLAT_COMPOSE_CMD: z.string().optional(),
  OWLAT_BACKUP_KEEP: z.coerce.number().int().min(1).default(5),
  OWLAT_HELPER_IMAGE: z.string().min(1).optional(),
  /** The Convex backend service the checks judge; unset: the one running convex-backend, else `convex`. */
  OWLAT_CONVEX_SERVICE: z.string().min(1).optional(),
})

export type ComposeSettings = z.infer<typeof settingsSchema>

/** The compose driver's own variables (README documents each); throws naming every bad one. */
export function composeSettingsFromEnv(env: NodeJS.ProcessEnv): ComposeSettings {
  return readSettings(settingsSchema, env)
}

export function composePaths(owlatDir: string) {
  return {
    current: join(owlatDir, 'docker-compose.yml'),
    next: join(owlatDir, 'docker-compose.next.yml'),
    prev: join(owlatDir, 'docker-compose.prev.yml'),
    backups: join(owlatDir, 'backups'),
  }
}

/** How long preflight waits for services that are still starting before calling the stack unhealthy. */
const PREFLIGHT_WAIT_MS = 10_000
/** How long a new sidecar lets a compose command its crashed predecessor left running finish. */
const ORPHAN_GRACE_MS = 120_000
const POLL_MS = 500

export interface ComposeDriverOptions {
  log: (line: string) => void
  /** Where the driver's own variables are read from; defaults to process.env. */
  env?: NodeJS.ProcessEnv
  /** Engine client; defaults to DOCKER_HOST or the local socket. */
  docker?: Docker
}

export class ComposeDriver implements Driver {
  readonly name = 'compose' as const
  readonly capabilities = { backups: { supported: true, reason: null }, dataRestore: true, selfUpdate: true, images: true, rehearsals: { supported: true, reason: null } }
  readonly project: string
  readonly paths: ReturnType<typeof composePaths>
  readonly projectDir: string
  readonly settings: ComposeSettings
  private readonly docker: Docker
  private readonly env: NodeJS.ProcessEnv
  private cliInstance: ComposeCli | null = null
  private logs: ServiceLogs | null = null
  /** When this updater last ran `up` on the stack: the output `verify` keeps is what came after. */
  private upAt: number | null = null
  readonly rehearsal: ComposeRehearsal

  constructor(private readonly config: OwlatConfig, private readonly opts: ComposeDriverOptions) {
    this.env = opts.env ?? process.env
    this.settings = composeSettingsFromEnv(this.env)
    this.paths = composePaths(config.owlatDir)
    this.projectDir = config.owlatDir
    this.docker = opts.docker ?? connectEngine()
    this.project = projectName(this.currentModel(), config.owlatDir)
    this.rehearsal = new ComposeRehearsal({
      docker: this.docker,
      config,
      project: this.project,
      updaterService: this.settings.OWLAT_UPDATER_SERVICE,
      composeCommand: async () => (await this.cli()).command,
      helperImage: () => this.helperImage(),
      updaterVolumes: () => this.updaterVolumes(),
      updateNeedBytes: async () => Math.max(await this.updateNeedBytes(), this.settings.OWLAT_MIN_FREE_DISK_MB * 1024 * 1024),
      checkTarget: ctx => this.checkTarget(ctx),
      deploySteps: model => this.deploySteps(model),
      waitForStack: (target, model, services, version, timeoutMs, signal) => this.waitForStack(target, model, services, version, timeoutMs, signal),
      checkStack: (target, model, services, version, signal) => this.checkStack(target, model, services, version, signal),
      keepFailingOutput: (ctx, target, model, services, version, detail) => this.keepFailingOutput(ctx, target, model, services, version, detail),
      verifyTimeout: (ctx, services, texts) => this.verifyTimeout(ctx, services, texts),
      bundledImages: () => this.bundledImages(),
    })
  }

  /** Images offline bundles loaded here, by the reference a release pins (bundled-images.ts). */
  private bundledImages(): BundledImages {
    return readBundledImages(join(this.config.dataDir, 'updater', BUNDLED_IMAGES_FILE))
  }

  /**
   * Loads a verified bundle's images (`docker load`), then checks that each pinned reference's
   * image is there under the ID its registry manifest names, and only then records them.
   */
  async loadImages(tarPath: string, expected: ReadonlyArray<{ ref: string, imageId: string }>, log: (line: string) => void): Promise<void> {
    const stream = await this.docker.loadImage(createReadStream(tarPath))
    await new Promise<void>((resolve, reject) => {
      this.docker.modem.followProgress(stream, (err: Error | null, events: Array<{ error?: string, stream?: string }>) => {
        for (const e of events ?? []) if (e.stream?.trim()) log(e.stream.trim())
        const failed = events?.find(e => e.error)
        if (err || failed) reject(new Error(`docker load failed: ${err?.message ?? failed?.error}`))
        else resolve()
      })
    })
    for (const { ref, imageId } of expected) {
      const id = await localImageId(this.docker, imageId)
      if (id !== imageId) throw new Error(`${ref}: the bundle's images did not load ${imageId}`)
      log(`${ref} is ${imageId}`)
    }
    recordBundledImages(join(this.config.dataDir, 'updater', BUNDLED_IMAGES_FILE), expected)
  }

  /** What production's checks look at. */
  private get production(): StackTarget {
    return { project: this.project, logs: this.logs, upAt: this.upAt, webInside: false }
  }

  private async updateNeedBytes(): Promise<number> {
    const engine = await engineInfo(this.docker).then(() => true, () => false)
    return updateNeedBytes(engine ? this.docker : null, this.project, this.config.owlatDir).catch(() => 0)
  }

  async start(): Promise<void> {
    const engine = await engineInfo(this.docker)
    const cli = await this.cli()
    this.opts.log(`compose driver: engine ${engine.version} (API ${engine.apiVersion}), ${cli.command.argv.join(' ')} ${cli.command.version}, project ${this.project} in ${this.config.owlatDir}`)
    const orphan = await cli.settleOrphan(ORPHAN_GRACE_MS)
    if (orphan) this.opts.log(orphan)
    // Brings up whatever is missing (nothing, normally); a failure here must not keep the updater
    // from starting, since it is the one that can repair the stack.
    await cli.run({ file: this.paths.current, args: ['up', '-d', ...this.managedServices(this.currentModel())] })
      .catch((err: Error) => this.opts.log(`compose driver: bringing the stack up failed: ${err.message}`))
    this.logs = new ServiceLogs(this.docker, this.project, this.opts.log)
    await this.logs.start()
  }

  /** The stack's lifetime is the engine's: stopping the updater leaves every service running. */
  async stop(): Promise<void> {
    this.logs?.close()
    this.logs = null
  }

  installedVersion(): string {
    return readCompose(this.paths.current).version
  }

  async health(): Promise<ServiceHealth[]> {
    const containers = await projectContainers(this.docker, this.project)
    return containers.map(c => ({ name: c.service, image: c.image, version: tagVersion(c.image), state: c.state, health: c.health }))
  }

  async hostFacts(): Promise<Omit<HostFacts, 'updater'>> {
    const engine = await engineInfo(this.docker).then(e => e.version, () => null)
    const compose = await this.cli().then(cli => cli.command.version, () => null)
    const need = await this.updateNeedBytes()
    const disk = await diskFacts(this.config.owlatDir, need, this.settings.OWLAT_MIN_FREE_DISK_MB)
    const copyBytes = engine ? await this.rehearsal.copyBytes().catch(() => undefined) : undefined
    return { engine, compose, disk: disk && copyBytes !== undefined ? { ...disk, copyBytes } : disk }
  }

  serviceLogs(service: string, tail: number): ServiceLogEntry[] {
    if (!this.currentModel().services.has(service)) throw new Error(`unknown service ${service}`)
    return this.logs?.tail(service, tail) ?? []
  }

  get archives(): DriverArchives {
    return {
      dir: this.paths.backups,
      keep: this.settings.OWLAT_BACKUP_KEEP,
      create: opts => this.createBackup(opts.reason, opts.jobId, opts.log, true),
      inspect: async (file) => {
        const { path, archive } = await verifyArchive(this.paths.backups, file)
        const { manifest, compose } = await inspectArchive(path)
        if (manifest.project !== this.project) throw new Error(`${file} is a backup of project ${manifest.project}, this stack is ${this.project}`)
        return { archive, compose }
      },
    }
  }

  /** An archive of the data volumes (not the updater's own) and the project files, the writers paused meanwhile. */
  private async createBackup(reason: BackupReason, jobId: string | null, log: (line: string) => void, prune: boolean) {
    const own = await this.updaterVolumes()
    for (const volume of own) log(`not backing up ${volume}: the updater's own data`)
    const volumes = (await projectVolumes(this.docker, this.project)).map(v => v.name).filter(v => !own.has(v))
    const image = await this.helperImage()
    await ensureImage(this.docker, image)
    return createArchive(this.docker, {
      backupsDir: this.paths.backups,
      projectDir: this.config.owlatDir,
      project: this.project,
      version: this.installedVersion(),
      image,
      volumes,
      pause: await this.containersUsing(volumes),
      reason,
      jobId,
      keep: prune ? this.settings.OWLAT_BACKUP_KEEP : null,
      log,
    })
  }

  /** A restore's preflight: the archive is complete, unchanged, of this project, and its compose file passes the policy. */
  private async restorePreflight(ctx: StepContext): Promise<void> {
    const engine = await engineInfo(this.docker)
    ctx.log(`engine ${engine.version} (API ${engine.apiVersion}) answers`)
    const { archive, compose } = await this.archives.inspect(ctx.restoreArchive ?? '')
    ctx.log(`${archive.file}: complete, sha256 ${archive.sha256} as recorded, taken ${new Date(archive.createdAt).toISOString()} on ${archive.version}`)
    if (compose !== ctx.compose) throw new Error(`${archive.file} changed since the restore was asked for`)
    const policyOptions = this.policyOptions()
    const policy = checkComposePolicy(compose, policyOptions)
    if (!policy.ok) throw new Error(`the archive's compose file: ${describePolicyViolations(policy.violations)}`)
    ctx.log('the archive\'s compose file passes the compose policy')
    if (parseCompose(compose).version !== ctx.toVersion) throw new Error(`the archive's compose file pins web ${parseCompose(compose).version}, not ${ctx.toVersion}`)
    const free = await freeBytes(this.config.owlatDir)
    // The undo archive is about as large as the one restored, and the restore unpacks it once.
    if (free < archive.bytes * 3) throw new Error(`only ${mib(free)} free in ${this.config.owlatDir}; the restore needs about ${mib(archive.bytes * 3)} (the undo backup and the unpacked archive)`)
    ctx.log(`${mib(free)} free in ${this.config.owlatDir}`)
  }

  /** Stops what uses the archive's volumes and puts the archive back (the restore's promote, and its undo). */
  private async putArchiveBack(ctx: StepContext, file: string): Promise<void> {
    const { path, archive } = await verifyArchive(this.paths.backups, file)
    const cli = await this.cli()
    const services = await this.servicesUsing(archive.volumes)
    if (services.length > 0) await cli.run({ file: this.paths.current, args: ['stop', ...services], signal: ctx.signal, onLine: ctx.log })
    const image = await this.helperImage()
    await ensureImage(this.docker, image)
    await applyArchive(this.docker, { path, projectDir: this.config.owlatDir, image, log: ctx.log })
    ctx.log(`put back ${file} (the stack as it was on ${archive.version}, ${new Date(archive.createdAt).toISOString()})`)
  }

  async preflight(ctx: StepContext): Promise<void> {
    if (ctx.kind === 'restore') return this.restorePreflight(ctx)
    await this.checkTarget(ctx)
    if (ctx.force) {
      ctx.log('force: skipping the health check of the running stack')
      return
    }
    const model = this.currentModel()
    const services = this.managedServices(model)
    const result = await this.waitForStack(this.production, model, services, null, PREFLIGHT_WAIT_MS, ctx.signal)
    if (!result.ok) throw new Error(`the running stack is not healthy, use force to update anyway: ${result.detail}`)
    ctx.log(`the stack is healthy (${services.join(', ')})`)
  }

  /** The preflight's look at the host and the target, which changes nothing (a rehearsal's preflight too). */
  private async checkTarget(ctx: StepContext): Promise<void> {
    const engine = await engineInfo(this.docker)
    ctx.log(`engine ${engine.version} (API ${engine.apiVersion}) answers`)
    const free = await freeBytes(this.config.owlatDir)
    const needed = this.settings.OWLAT_MIN_FREE_DISK_MB * 1024 * 1024
    if (free < needed) {
      throw new Error(`only ${mib(free)} free in ${this.config.owlatDir}, below the ${mib(needed)} an update needs (OWLAT_MIN_FREE_DISK_MB)`)
    }
    ctx.log(`${mib(free)} free in ${this.config.owlatDir} (threshold ${mib(needed)})`)

    const current = readCompose(this.paths.current)
    if (current.version !== ctx.fromVersion) {
      throw new Error(`the stack runs ${current.version}, but the job was planned from ${ctx.fromVersion}`)
    }
    // Policy first: nothing else is read from a file the policy refuses.
    const policyOptions = this.policyOptions()
    const policy = checkComposePolicy(ctx.compose, policyOptions)
    if (!policy.ok) throw new Error(describePolicyViolations(policy.violations))
    ctx.log('the target compose file passes the compose policy')
    const target = parseCompose(ctx.compose)
    if (target.version !== ctx.toVersion) throw new Error(`the compose file pins web ${target.version}, not ${ctx.toVersion}`)
    const targetModel = parseComposeModel(ctx.compose)
    const targetProject = projectName(targetModel, this.config.owlatDir)
    if (targetProject !== this.project) throw new Error(`the target compose file names project ${targetProject}, the stack is ${this.project}`)
    await this.checkUpdaterKept(targetModel)
    await this.composeConfigCheck(ctx, policyOptions)
    await this.stackChecks(ctx)
  }

  async backup(ctx: StepContext): Promise<void> {
    if (ctx.kind === 'restore') {
      // The undo: named so the operator can restore it back; never pruned by its own job.
      const { backup } = await this.createBackup('before-restore', ctx.jobId, ctx.log, false)
      ctx.log(`the stack as it is now is in ${backup.file}: owlat restore ${backup.file} puts it back`)
      // Not recorded as the job's data backup: a rollback restores those by job folder, this is an archive (listed by its job id).
      return
    }
    if (!ctx.backup) return ctx.skip('no backup requested for this job (the admin turned it off)')
    const own = await this.updaterVolumes()
    const volumes = (await projectVolumes(this.docker, this.project)).filter(v => !own.has(v.name))
    // Its journal records this very job: putting it back in time would lose the job's own record.
    for (const volume of own) ctx.log(`not backing up ${volume}: the updater's own data`)
    if (volumes.length === 0) return ctx.skip(`project ${this.project} has no named volumes to back up`)
    const image = await this.helperImage()
    await ensureImage(this.docker, image)
    const manifest = await backupVolumes(this.docker, {
      backupsDir: this.paths.backups,
      jobId: ctx.jobId,
      project: this.project,
      fromVersion: ctx.fromVersion,
      image,
      volumes: volumes.map(v => v.name),
    })
    for (const entry of manifest.volumes) {
      ctx.log(`backed up volume ${entry.volume} to ${join(this.paths.backups, ctx.jobId, entry.file)} (${entry.bytes} bytes)`)
    }
    ctx.recordBackup({
      path: join(this.paths.backups, ctx.jobId),
      createdAt: manifest.createdAt,
      sizeBytes: manifest.volumes.reduce((sum, v) => sum + v.bytes, 0),
    })
    for (const removed of pruneBackups(this.paths.backups, this.settings.OWLAT_BACKUP_KEEP)) {
      ctx.log(`removed old backup ${removed} (keeping ${this.settings.OWLAT_BACKUP_KEEP}, OWLAT_BACKUP_KEEP)`)
    }
  }

  async stage(ctx: StepContext): Promise<void> {
    if (ctx.kind === 'restore') return ctx.skip('a restore stages nothing: the compose file comes back with the archive')
    stageCompose(this.paths, ctx)
  }

  async pull(ctx: StepContext): Promise<void> {
    if (ctx.kind === 'restore') return ctx.skip('a restore pulls nothing first: recreate pulls any image of the archive that is missing')
    if (ctx.kind === 'rehearsal') return this.rehearsal.pull(ctx)
    const cli = await this.cli()
    const model = this.runModel(ctx.compose)
    const profiles = [...new Set(this.deploySteps(model).steps.flatMap(step => step.profiles))]
    try {
      await cli.run({ file: this.paths.next, args: ['pull'], profiles, signal: ctx.signal, onLine: ctx.log })
    }
    catch (err) {
      // Nothing may be left changed before promote: the staged file goes too.
      rmSync(this.paths.next, { force: true })
      ctx.log(`removed ${this.paths.next}; the running stack and ${this.paths.current} are untouched`)
      throw err
    }
    for (const [service, spec] of model.services) {
      if (!spec.image) continue
      const id = await localImageId(this.docker, runnableImage(spec.image, this.bundledImages()))
      if (!id) throw new Error(`${service}: ${spec.image} is not present after the pull`)
      ctx.log(`${service}: ${spec.image} is ${id}`)
    }
  }

  async deployFunctions(ctx: StepContext): Promise<void> {
    if (ctx.kind === 'restore') return ctx.skip('a restore deploys no functions: the restored data holds those of the version it was taken on')
    const { steps, inactive } = this.deploySteps(this.runModel(ctx.compose))
    for (const step of inactive) {
      ctx.log(`not running ${step.service}: it needs the profile(s) ${step.profiles.filter(p => p !== FUNCTIONS_PROFILE).join(', ')}, not active here (COMPOSE_PROFILES)`)
    }
    if (steps.length === 0) {
      return ctx.skip(`the release marks no one-shot service for this step (label ${DEPLOY_LABEL}, or ${FUNCTIONS_SERVICE} under the "${FUNCTIONS_PROFILE}" profile)`)
    }
    ctx.log(`running ${steps.map(step => step.service).join(', then ')}`)
    const cli = await this.cli()
    for (const step of steps) {
      // --no-deps: before promote nothing running may change, so it deploys against the running backend.
      await cli.run({
        file: this.paths.next,
        args: ['run', '--rm', '-T', '--no-deps', step.service],
        profiles: step.profiles,
        signal: ctx.signal,
        onLine: ctx.log,
      })
      ctx.log(`${step.service} finished`)
    }
  }

  async promote(ctx: StepContext): Promise<void> {
    if (ctx.kind === 'restore') return this.putArchiveBack(ctx, ctx.restoreArchive ?? '')
    promoteCompose(this.paths, ctx)
  }

  async recreate(ctx: StepContext): Promise<void> {
    // A rollback that restores data puts the volumes back while nothing uses them, then starts up.
    if (ctx.restoreBackupJobId) await this.restoreData(ctx, ctx.restoreBackupJobId)
    await this.upServices(ctx)
  }

  /** Stops the managed services and puts back every volume of job `jobId`'s backup. */
  private async restoreData(ctx: StepContext, jobId: string): Promise<void> {
    const dir = join(this.paths.backups, jobId)
    const backup = readBackup(dir)
    if (!backup) throw new Error(`the data backup ${dir} is missing or incomplete`)
    const own = await this.updaterVolumes()
    const volumes = backup.volumes.map(v => v.volume).filter(v => !own.has(v))
    // Only what uses those volumes stops: the socket proxy the updater reaches the engine through
    // (and the updater itself) must keep running.
    const cli = await this.cli()
    const services = await this.servicesUsing(volumes)
    if (services.length > 0) await cli.run({ file: this.paths.current, args: ['stop', ...services], signal: ctx.signal, onLine: ctx.log })
    const image = await this.helperImage()
    await ensureImage(this.docker, image)
    await restoreBackup(this.docker, dir, image, volume => volumes.includes(volume))
    ctx.log(`restored ${volumes.join(', ')} from ${dir} (data of ${backup.fromVersion}, taken ${new Date(backup.createdAt).toISOString()})`)
  }

  private async upServices(ctx: StepContext): Promise<void> {
    const cli = await this.cli()
    const services = this.managedServices(this.currentModel())
    ctx.log(`up -d --remove-orphans ${services.join(' ')} (the updater's own service ${this.settings.OWLAT_UPDATER_SERVICE} is left alone)`)
    this.upAt = Date.now()
    await cli.run({ file: this.paths.current, args: ['up', '-d', '--remove-orphans', ...services], signal: ctx.signal, onLine: ctx.log })
  }

  async verify(ctx: StepContext, version: string): Promise<void> {
    const model = this.currentModel()
    const services = this.managedServices(model)
    const timeout = await this.verifyTimeout(ctx, services)
    ctx.log(`waiting up to ${formatSeconds(timeout)} for ${services.join(', ')} to run healthy at their pinned images, and web to answer ${version} (${this.settings.OWLAT_WEB_VERSION_CHECK})`)
    const result = await this.waitForStack(this.production, model, services, version, timeout, ctx.signal)
    if (!result.ok) {
      this.keepFailingOutput(ctx, this.production, model, services, version, result.detail)
      throw new Error(result.fatal ? result.detail : `the stack did not become healthy within ${formatSeconds(timeout)} (last: ${result.detail})`)
    }
    ctx.log(`every service runs healthy at its pinned image; web answers ${version}`)
  }

  async sample(ctx: StepContext, version: string): Promise<WatchSample> {
    const model = this.currentModel()
    const services = this.managedServices(model)
    const result = await this.checkStack(this.production, model, services, version, ctx.signal)
    if (result.ok) return { ok: true, detail: `${services.join(', ')} run healthy at their pinned images; web answers ${version}` }
    this.keepFailingOutput(ctx, this.production, model, services, version, result.detail)
    return { ok: false, detail: result.detail }
  }

  /** The service a failed check stopped at ("web: …"), else the web: its own words say why. */
  private keepFailingOutput(ctx: StepContext, target: StackTarget, model: ComposeModel, services: string[], version: string, detail: string): void {
    const named = /^([\w.-]+):/.exec(detail)?.[1]
    const service = named && services.includes(named) ? named : this.settings.OWLAT_WEB_SERVICE
    const serviceVersion = service === this.settings.OWLAT_WEB_SERVICE ? version : tagVersion(model.services.get(service)?.image ?? '')
    keepServiceOutput(ctx, service, serviceVersion, target.logs?.tail(service, 1000) ?? [], target.upAt)
  }

  /**
   * OWLAT_VERIFY_TIMEOUT_MS, extended to the longest healthcheck `start_period` among the
   * services `up` recreated: inside it a service is still allowed to be starting (ClamAV's is 120 s).
   */
  private async verifyTimeout(ctx: StepContext, services: string[], texts?: string[]): Promise<number> {
    const configured = this.config.verifyTimeoutMs
    // Read from the files (cheap, no compose process); the override's healthcheck wins, as compose merges it.
    const env = { ...this.dotenv(), ...this.env }
    const periods = new Map<string, number>()
    try {
      const override = overrideFile(this.config.owlatDir)
      for (const text of texts ?? [readFileSync(this.paths.current, 'utf8'), ...(override ? [readFileSync(override, 'utf8')] : [])]) {
        for (const service of parseStackModel(text, env).services) if (service.startPeriodMs > 0) periods.set(service.name, service.startPeriodMs)
      }
    }
    catch (err) {
      ctx.log(`cannot read the services' start periods (${(err as Error).message}); the verify timeout stays ${formatSeconds(configured)}`)
      return configured
    }
    const longest = [...periods].filter(([name]) => services.includes(name)).sort((a, b) => b[1] - a[1])[0]
    if (!longest || longest[1] <= configured) return configured
    ctx.log(`extending the verify timeout from ${formatSeconds(configured)} (OWLAT_VERIFY_TIMEOUT_MS) to ${formatSeconds(longest[1])}: ${longest[0]}'s healthcheck start_period`)
    return longest[1]
  }

  async restore(ctx: StepContext): Promise<void> {
    if (ctx.kind === 'restore') {
      const undo = listArchives(this.paths.backups).find(a => a.reason === 'before-restore' && a.jobId === ctx.jobId)
      if (!undo) throw new Error(`the undo backup of job ${ctx.jobId} is missing`)
      await this.putArchiveBack(ctx, undo.file)
      return this.upServices(ctx)
    }
    restoreCompose(this.paths, ctx)
    // A rollback that restored older data must also give the data back: this job's own backup
    // holds it as it was before the job.
    if (ctx.restoreBackupJobId) {
      if (readBackup(join(this.paths.backups, ctx.jobId))) await this.restoreData(ctx, ctx.jobId)
      else ctx.log(`this job took no backup of its own, so the data restored from job ${ctx.restoreBackupJobId} stays`)
    }
    await this.upServices(ctx)
  }

  /** Launches the self-update helper when the updater's pinned image changed; says what it did. */
  async selfUpdate(): Promise<string> {
    const service = this.settings.OWLAT_UPDATER_SERVICE
    const image = this.currentModel().services.get(service)?.image
    if (!image) return `the compose file has no ${service} service with an image; nothing to do`
    const cli = await this.cli()
    const result = await launchSelfUpdate(this.docker, {
      project: this.project,
      projectDir: this.config.owlatDir,
      file: this.paths.current,
      service,
      image,
      bundledImages: this.bundledImages(),
      composeArgv: cli.command.argv,
    })
    return result.launched
      ? `helper container ${result.containerId.slice(0, 12)} moves ${service} from ${result.from} to ${result.to}`
      : `nothing to do: ${result.reason}`
  }

  /** The project's `.env` (what compose interpolates from); empty when there is none. */
  private dotenv(): Record<string, string> {
    const path = join(this.config.owlatDir, '.env')
    if (!existsSync(path)) return {}
    return Object.fromEntries(Object.entries(parseEnv(readFileSync(path, 'utf8'))).filter((e): e is [string, string] => e[1] !== undefined))
  }

  /** The release's deploy one-shots, with the profiles active for this project (compose reads COMPOSE_PROFILES from both). */
  private deploySteps(model: ComposeModel): { steps: DeployStep[], inactive: DeployStep[] } {
    return deploySteps(model, activeProfiles({ ...this.dotenv(), ...this.env }))
  }

  /**
   * The stack checks (shared/node/checks) on what the release will run, override included, as
   * compose renders it. Every result goes to the log; a failing blocking one refuses the update.
   */
  private async stackChecks(ctx: StepContext): Promise<void> {
    const checks = await this.checksFor(ctx.compose, ctx.signal)
    for (const check of checks) ctx.log(`check ${formatCheck(check)}`)
    const blocking = blockingFailures(checks)
    if (blocking.length > 0) {
      throw new Error(`refused before anything changed: ${blocking.map(c => `${c.id}: ${c.message} (${c.fix})`).join('; ')}`)
    }
  }

  /** The stack checks on `compose` (a plan's target), else on the installed stack (doctor's view, for the bug-report bundle). */
  async checks(signal?: AbortSignal, compose?: string): Promise<Check[]> {
    return this.checksFor(compose ?? readFileSync(this.paths.current, 'utf8'), signal)
  }

  secretEnvironments(): Array<Record<string, string | undefined>> {
    return [this.dotenv(), this.env]
  }

  /** The checks on `compose` as compose renders it with the operator's override: what `up` would run. */
  private async checksFor(compose: string, signal?: AbortSignal): Promise<Check[]> {
    const rendered = await this.rendered(compose, signal, { override: true })
    let ownSecret: Record<string, string> = {}
    try {
      ownSecret = { OWLAT_INSTANCE_SECRET: this.config.instanceSecret() }
    }
    catch {
      // None configured: the check says so.
    }
    return stackChecks({
      model: parseStackModel(rendered),
      dotenv: { ...this.dotenv(), ...ownSecret },
      project: this.project,
      owlatDir: this.config.owlatDir,
      docker: this.docker,
      roles: { convex: this.settings.OWLAT_CONVEX_SERVICE, web: this.settings.OWLAT_WEB_SERVICE },
      deployServices: this.deploySteps(this.runModel(compose)).steps.map(step => step.service),
      signal,
    })
  }

  /**
   * What compose renders from `compose`, read next to the current file (for `.env` and relative
   * paths). Each call has a file of its own: a plan may ask while a job's preflight renders.
   */
  private async rendered(compose: string, signal?: AbortSignal, options: { override?: boolean } = {}): Promise<string> {
    const file = join(this.config.owlatDir, `.docker-compose.check-${randomUUID()}.yml`)
    writeFileSync(file, compose, { mode: 0o600 })
    try {
      return await renderComposeConfig(await this.cli(), file, signal, options)
    }
    finally {
      rmSync(file, { force: true })
    }
  }

  private async cli(): Promise<ComposeCli> {
    if (this.cliInstance) return this.cliInstance
    const command = await detectCompose(this.settings.OWLAT_COMPOSE_CMD)
    this.cliInstance = new ComposeCli({
      command,
      project: this.project,
      projectDir: this.config.owlatDir,
      pidFile: join(this.config.dataDir, 'updater', 'compose.pid'),
      bundledImages: () => this.bundledImages(),
    })
    return this.cliInstance
  }

  /** What runs from the current compose file, the operator's override included. */
  private currentModel(): ComposeModel {
    return this.runModel(readFileSync(this.paths.current, 'utf8'))
  }

  /** `text` as compose will run it: with the project's override file merged on top, when there is one. */
  private runModel(text: string): ComposeModel {
    const override = overrideFile(this.config.owlatDir)
    return withOverride(parseComposeModel(text), override ? readFileSync(override, 'utf8') : null)
  }

  /** What `up` and `verify` act on: every default service except the updater itself. */
  private managedServices(model: ComposeModel): string[] {
    return defaultServices(model).filter(s => s !== this.settings.OWLAT_UPDATER_SERVICE)
  }

  private policyOptions(): ComposePolicyOptions {
    return composePolicyOptionsFromEnv(this.env, this.config.owlatDir)
  }

  /**
   * The compose CLI's own reading of the target file, next to the current one (for `.env` and
   * relative paths), judged by the compose policy as well: what `up` will run, not the text.
   */
  private async composeConfigCheck(ctx: StepContext, policyOptions: ComposePolicyOptions): Promise<void> {
    const cli = await this.cli()
    let rendered: string
    try {
      rendered = await this.rendered(ctx.compose, ctx.signal)
    }
    catch (err) {
      throw new Error(`compose rejects the target file: ${(err as Error).message}`, { cause: err })
    }
    ctx.log(`${cli.command.argv.join(' ')} ${cli.command.version} accepts the target compose file`)
    const judged = checkComposePolicy(rendered, policyOptions)
    if (!judged.ok) throw new Error(`${describePolicyViolations(judged.violations)} (as ${cli.command.argv.join(' ')} config renders it)`)
    ctx.log(`what compose renders from it passes the compose policy too`)
  }

  /** `--remove-orphans` would remove a running updater whose service the new file drops. */
  private async checkUpdaterKept(target: ComposeModel): Promise<void> {
    const service = this.settings.OWLAT_UPDATER_SERVICE
    if (target.services.has(service)) return
    const running = (await projectContainers(this.docker, this.project)).some(c => c.service === service && c.running)
    if (running) throw new Error(`the target compose file has no ${service} service, so recreating would remove the running updater`)
  }

  /** Named volumes the updater's own containers mount (its journal), never backed up or restored. */
  private async updaterVolumes(): Promise<Set<string>> {
    const own = (await projectContainers(this.docker, this.project)).filter(c => c.service === this.settings.OWLAT_UPDATER_SERVICE)
    const mounts = await Promise.all(own.map(async c => (await this.docker.getContainer(c.id).inspect()).Mounts ?? []))
    return new Set(mounts.flat().filter(m => m.Type === 'volume' && m.Name).map(m => m.Name!))
  }

  /** The running managed containers that mount any of `volumes` (paused while a backup reads them). */
  private async containersUsing(volumes: string[]): Promise<Array<{ id: string, service: string }>> {
    const managed = new Set(this.managedServices(this.currentModel()))
    const users: Array<{ id: string, service: string }> = []
    for (const c of await projectContainers(this.docker, this.project)) {
      if (!managed.has(c.service) || !c.running) continue
      const mounts = (await this.docker.getContainer(c.id).inspect()).Mounts ?? []
      if (mounts.some(m => m.Type === 'volume' && m.Name && volumes.includes(m.Name))) users.push({ id: c.id, service: c.service })
    }
    return users
  }

  /** The managed services whose containers mount any of `volumes`. */
  private async servicesUsing(volumes: string[]): Promise<string[]> {
    const managed = new Set(this.managedServices(this.currentModel()))
    const users = new Set<string>()
    for (const c of await projectContainers(this.docker, this.project)) {
      if (!managed.has(c.service)) continue
      const mounts = (await this.docker.getContainer(c.id).inspect()).Mounts ?? []
      if (mounts.some(m => m.Type === 'volume' && m.Name && volumes.includes(m.Name))) users.add(c.service)
    }
    return [...users].sort()
  }

  /** OWLAT_HELPER_IMAGE, else the image the updater runs (present locally, has a shell and tar). */
  private async helperImage(): Promise<string> {
    if (this.settings.OWLAT_HELPER_IMAGE) return this.settings.OWLAT_HELPER_IMAGE
    const own = (await projectContainers(this.docker, this.project)).find(c => c.service === this.settings.OWLAT_UPDATER_SERVICE)
    if (own) return own.image
    throw new Error(`no image for the backup container: set OWLAT_HELPER_IMAGE (no ${this.settings.OWLAT_UPDATER_SERVICE} service runs in project ${this.project})`)
  }

  private async waitForStack(target: StackTarget, model: ComposeModel, services: string[], version: string | null, timeoutMs: number, signal: AbortSignal): Promise<StackCheck> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      signal.throwIfAborted()
      const result = await this.checkStack(target, model, services, version, signal)
      if (result.ok || result.fatal || Date.now() + POLL_MS > deadline) return result
      await sleep(POLL_MS, undefined, { signal })
    }
  }

  /** Every service running, healthy (when it has a healthcheck), at its pinned image; the web at `version`. */
  private async checkStack(target: StackTarget, model: ComposeModel, services: string[], version: string | null, signal: AbortSignal): Promise<StackCheck> {
    const containers = await projectContainers(this.docker, target.project)
    const bundled = this.bundledImages()
    let web: ServiceContainer | null = null
    for (const service of services) {
      const pinned = model.services.get(service)?.image ?? null
      const pinnedId = pinned ? await localImageId(this.docker, runnableImage(pinned, bundled)) : null
      const own = containers.filter(c => c.service === service)
      if (own.length === 0) return { ok: false, fatal: false, detail: `${service}: no container` }
      for (const c of own) {
        if (pinned && c.imageId !== pinnedId) return { ok: false, fatal: false, detail: `${service}: ${c.name} runs ${c.image}, not ${pinned}` }
        if (!c.running) return { ok: false, fatal: false, detail: `${service}: ${c.name} is ${c.state} (exit code ${c.exitCode})` }
        // The engine calls a container unhealthy only after its healthcheck failed `retries` times in a row.
        if (c.health === 'unhealthy') return { ok: false, fatal: true, detail: `${service}: ${c.name} is unhealthy${c.healthLog ? ` (${c.healthLog})` : ''}` }
        if (c.health === 'starting') return { ok: false, fatal: false, detail: `${service}: ${c.name} is still starting` }
      }
      if (service === this.settings.OWLAT_WEB_SERVICE) web = own[0]!
    }
    if (version === null) return { ok: true }
    if (!web) return { ok: false, fatal: true, detail: `the stack has no ${this.settings.OWLAT_WEB_SERVICE} service to ask for its version` }
    return this.checkWebVersion(web, version, signal, target.webInside)
  }

  private async checkWebVersion(web: ServiceContainer, version: string, signal: AbortSignal, inside: boolean): Promise<StackCheck> {
    if (this.settings.OWLAT_WEB_VERSION_CHECK === 'http' && inside) return this.probeWebInside(web, version)
    if (this.settings.OWLAT_WEB_VERSION_CHECK === 'http') {
      const result = await probeWeb({ baseUrl: this.settings.OWLAT_WEB_URL, secret: this.config.instanceSecret() }, version, signal)
      return result.ok ? result : { ok: false, fatal: false, detail: `web: ${result.detail}` }
    }
    const out = await execIn(this.docker, web.id, ['cat', '/version'])
    if (out.exitCode !== 0) return { ok: false, fatal: false, detail: `web: cat /version exited with ${out.exitCode}` }
    const answered = out.stdout.trim()
    return answered === version ? { ok: true } : { ok: false, fatal: false, detail: `web: /version says ${answered}, expected ${version}` }
  }

  private async probeWebInside(web: ServiceContainer, version: string): Promise<StackCheck> {
    const url = new URL(this.settings.OWLAT_WEB_URL)
    const headers = signRequest({ secret: this.config.instanceSecret(), method: 'GET', path: '/api/system/version', nonce: false })
    const env = { OWLAT_PROBE_URL: `http://127.0.0.1:${url.port || 80}`, OWLAT_PROBE_HEADERS: JSON.stringify(headers) }
    const out = await execIn(this.docker, web.id, ['node', '-e', INSIDE_PROBE], env).catch((err: Error) => ({ exitCode: -1, stdout: '', stderr: err.message }))
    const answer = insideAnswerSchema.safeParse((() => {
      try {
        return JSON.parse(out.stdout.trim().split('\n').at(-1) ?? '')
      }
      catch {
        return null
      }
    })())
    if (out.exitCode !== 0 || !answer.success) return { ok: false, fatal: false, detail: `web: the probe inside its container (node -e) exited with ${out.exitCode}: ${out.stderr.trim().split('\n').at(-1) ?? ''}` }
    const { health, status, body, error } = answer.data
    if (error) return { ok: false, fatal: false, detail: `web: ${error}` }
    if (health !== 200) return { ok: false, fatal: false, detail: `web: /api/healthz answered ${health}` }
    if (status !== 200) return { ok: false, fatal: false, detail: `web: /api/system/version answered ${status}` }
    const info = versionInfoSchema.safeParse((() => {
      try {
        return JSON.parse(body ?? '')
      }
      catch {
        return null
      }
    })())
    if (!info.success) return { ok: false, fatal: false, detail: 'web: /api/system/version answered something that is not {version, buildId}' }
    return info.data.version === version ? { ok: true } : { ok: false, fatal: false, detail: `web: /api/system/version answered ${info.data.version}, expected ${version}` }
  }
}

/**
 * The web's probe (web-probe.ts) run by the web's own Node inside its container, on its loopback:
 * a rehearsal's web is on a network the updater is not on, and no port of it is published.
 */
const INSIDE_PROBE = `const u = process.env.OWLAT_PROBE_URL, h = JSON.parse(process.env.OWLAT_PROBE_HEADERS), t = () => AbortSignal.timeout(2000);
(async () => { const o = {}; try { const a = await fetch(u + '/api/healthz', { signal: t() }); o.health = a.status;
if (a.status === 200) { const b = await fetch(u + '/api/system/version', { headers: h, signal: t() }); o.status = b.status; o.body = await b.text() } }
catch (e) { o.error = String((e.cause && e.cause.code) || e.message) } console.log(JSON.stringify(o)) })()`

const insideAnswerSchema = z.object({ health: z.number().optional(), status: z.number().optional(), body: z.string().optional(), error: z.string().optional() })
