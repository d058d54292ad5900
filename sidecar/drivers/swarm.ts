/**
 * The `swarm` driver: the stack is a Docker Swarm stack (`docker stack deploy`), for installs that
 * outgrow one host or want updates without downtime. It adds no cluster logic of its own: a
 * release is deployed with Swarm's own rolling update (start-first where two copies can run side
 * by side, health-gated, `failure_action: rollback`), and a failed update is put back by Swarm's
 * rollback and a deploy of the previous file. Files in OWLAT_DIR are the compose driver's
 * (`docker-compose.yml`, `.next.yml`, `.prev.yml`), plus `.owlat-stack.yml`, the file deployed.
 *
 * State comes from the Engine API of the manager the updater runs on (services, tasks, their
 * update status); changes go through the docker CLI, which owns the stack file format.
 * The updater's own service keeps the image it runs during a job and moves after the commit.
 */
import { readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import type Docker from 'dockerode'
import { execa } from 'execa'
import { z } from 'zod'
import { checkComposePolicy, composePolicyOptionsFromEnv, describePolicyViolations } from '../../shared/compose-policy'
import type { OwlatConfig } from '../../shared/config'
import { diskFacts } from '../../shared/node/checks'
import type { HostFacts, ServiceHealth } from '../../shared/schemas/job'
import type { ServiceLogEntry } from '../../shared/service-output'
import { parseCompose, readCompose, tagVersion } from '../compose-file'
import { deploySteps, parseComposeModel } from './compose-project'
import { connectEngine, demuxed, engineInfo, execIn, freeBytes, mib } from './docker-engine'
import { keepServiceOutput } from './service-output'
import { readSettings, stackSettingsShape } from './stack-settings'
import { promoteCompose, restoreCompose, stageCompose, writeAtomic } from './stack-files'
import { deployFile, imageMatches, parseSwarmModel, stackServices, type SwarmModel } from './swarm-stack'
import type { Driver, DriverRehearsal, StepContext, WatchSample } from './types'
import { formatSeconds, probeWeb } from './web-probe'

const settingsSchema = z.object({
  ...stackSettingsShape,
  /** The stack's name: services are `<stack>_<service>`. */
  OWLAT_SWARM_STACK: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, 'lowercase letters, digits, - and _').default('owlat'),
  /** How long Swarm watches each new task before it goes on (a duration: 5s, 500ms, 1m). */
  OWLAT_SWARM_UPDATE_MONITOR: z.string().regex(/^\d+(ms|s|m)$/, 'a duration such as 5s, 500ms or 1m').default('5s'),
  OWLAT_DOCKER_CMD: z.string().min(1).default('docker'),
})

export type SwarmSettings = z.infer<typeof settingsSchema>

export function swarmSettingsFromEnv(env: NodeJS.ProcessEnv): SwarmSettings {
  return readSettings(settingsSchema, env)
}

/** The label `docker stack deploy` puts on what belongs to a stack. */
export const STACK_LABEL = 'com.docker.stack.namespace'
/** The file deployed: the release's with Swarm's update policy filled in (swarm-stack.ts). */
export const DEPLOYED_FILE = '.owlat-stack.yml'
const PREFLIGHT_WAIT_MS = 10_000
const POLL_MS = 500
/** Lines of a failing service's log read for the step (the newest OUTPUT_LINES_KEPT are kept). */
const FAILING_LOG_LINES = 200

interface Check { ok: boolean, fatal: boolean, detail: string }

/** What the Engine API says of one service (the fields this driver reads). */
interface SwarmService {
  ID: string
  Spec: { Name: string, Mode?: { Replicated?: { Replicas?: number }, Global?: object }, TaskTemplate: { ContainerSpec: { Image: string } } }
  PreviousSpec?: { TaskTemplate?: { ContainerSpec?: { Image?: string } } }
  UpdateStatus?: { State?: string, Message?: string }
}

interface SwarmTask {
  ID: string
  Slot?: number
  DesiredState: string
  Spec: { ContainerSpec: { Image: string } }
  Status: { State: string, Err?: string, ContainerStatus?: { ContainerID?: string } }
}

export interface SwarmDriverOptions {
  log: (line: string) => void
  env?: NodeJS.ProcessEnv
  docker?: Docker
}

export class SwarmDriver implements Driver {
  readonly name = 'swarm' as const
  readonly capabilities = {
    backups: { supported: false, reason: 'the swarm driver does not back up data: a volume lives on whichever node runs its task, so back it up with the tools that manage those nodes' },
    dataRestore: false,
    selfUpdate: true,
    images: false,
    rehearsals: { supported: false, reason: 'the swarm driver cannot rehearse yet: a copy of the data would have to be made on the node each volume lives on' },
  }

  readonly projectDir: string
  readonly settings: SwarmSettings
  readonly stack: string
  readonly rehearsal: DriverRehearsal
  private readonly paths: { current: string, next: string, prev: string, deployed: string }
  private readonly docker: Docker
  private readonly env: NodeJS.ProcessEnv
  /** When this updater last deployed: a failing service's output kept by `verify` is what came after. */
  private deployedAt: number | null = null
  private features: { version: string, detach: boolean, config: boolean } | null = null

  constructor(private readonly config: OwlatConfig, private readonly opts: SwarmDriverOptions) {
    this.env = opts.env ?? process.env
    this.settings = swarmSettingsFromEnv(this.env)
    this.stack = this.settings.OWLAT_SWARM_STACK
    this.projectDir = config.owlatDir
    this.paths = {
      current: join(config.owlatDir, 'docker-compose.yml'),
      next: join(config.owlatDir, 'docker-compose.next.yml'),
      prev: join(config.owlatDir, 'docker-compose.prev.yml'),
      deployed: join(config.owlatDir, DEPLOYED_FILE),
    }
    this.docker = opts.docker ?? connectEngine()
    this.rehearsal = refusedRehearsal(this.capabilities.rehearsals.reason)
  }

  async start(): Promise<void> {
    const engine = await engineInfo(this.docker)
    await this.requireManager()
    this.opts.log(`swarm driver: engine ${engine.version} (API ${engine.apiVersion}), stack ${this.stack} from ${this.paths.current}`)
    // Deploys the installed file only where a service of it is missing (a first start): a stack
    // that runs is left as it is, a job resumed after a restart redeploys in its own step.
    const missing = []
    for (const service of stackServices(this.currentModel())) {
      if (!await this.service(service)) missing.push(service)
    }
    if (missing.length === 0) return
    this.opts.log(`swarm driver: ${missing.join(', ')} not deployed; deploying ${this.paths.current}`)
    await this.deploy(readFileSync(this.paths.current, 'utf8'), this.opts.log)
      .catch((err: Error) => this.opts.log(`swarm driver: deploying the stack failed: ${err.message}`))
  }

  async stop(): Promise<void> {
    // The stack's lifetime is the swarm's: stopping the updater leaves every service running.
  }

  installedVersion(): string {
    return readCompose(this.paths.current).version
  }

  async health(): Promise<ServiceHealth[]> {
    const out: ServiceHealth[] = []
    for (const service of stackServices(this.currentModel())) {
      const svc = await this.service(service)
      if (!svc) {
        out.push({ name: service, image: '', version: null, state: 'missing', health: 'none' })
        continue
      }
      const tasks = await this.tasks(svc)
      const running = tasks.filter(t => t.Status.State === 'running').length
      const wanted = svc.Spec.Mode?.Replicated?.Replicas ?? tasks.length
      const image = svc.Spec.TaskTemplate.ContainerSpec.Image.split('@')[0]!
      const starting = tasks.some(t => ['starting', 'preparing', 'assigned', 'accepted', 'pending', 'ready', 'new'].includes(t.Status.State))
      out.push({
        name: service,
        image,
        version: tagVersion(image),
        state: `${running}/${wanted} running`,
        health: running >= wanted && wanted > 0 ? 'healthy' : starting ? 'starting' : 'unhealthy',
      })
    }
    return out
  }

  async hostFacts(): Promise<Omit<HostFacts, 'updater'>> {
    const engine = await engineInfo(this.docker).then(e => e.version, () => null)
    const disk = await diskFacts(this.config.owlatDir, 0, this.settings.OWLAT_MIN_FREE_DISK_MB)
    return { engine, compose: null, disk }
  }

  /**
   * A service's newest lines across its tasks, from the swarm's own log (every node's), each with
   * the version of the task that wrote it (a task Swarm rolled back wrote the release's version).
   */
  async serviceLogs(service: string, tail: number): Promise<ServiceLogEntry[]> {
    if (!this.currentModel().services.has(service)) throw new Error(`unknown service ${service}`)
    const svc = await this.service(service)
    if (!svc) return []
    const raw = await this.docker.getService(svc.ID).logs({ stdout: true, stderr: true, timestamps: true, details: true, tail }) as unknown as Buffer
    // Every task Swarm still keeps, running or not (its task history), by ID.
    const tasks = await this.docker.listTasks({ filters: { service: [svc.ID] } }) as unknown as SwarmTask[]
    const versionOf = new Map(tasks.map(t => [t.ID, tagVersion(t.Spec.ContainerSpec.Image)]))
    const entries: ServiceLogEntry[] = []
    for (const line of demuxed(Buffer.isBuffer(raw) ? raw : Buffer.from(String(raw))).split('\n')) {
      // `<time> com.docker.swarm.node.id=…,com.docker.swarm.service.id=…,com.docker.swarm.task.id=… <line>`
      const match = /^(\d{4}-\d\d-\d\dT[\d:.]+Z) (\S*com\.docker\.swarm\.task\.id=(\w+)\S*) ?(.*)$/.exec(line)
      if (match) entries.push({ at: Date.parse(match[1]!), version: versionOf.get(match[3]!) ?? null, line: match[4]! })
    }
    return entries
  }

  async preflight(ctx: StepContext): Promise<void> {
    const engine = await engineInfo(this.docker)
    ctx.log(`engine ${engine.version} (API ${engine.apiVersion}) answers`)
    ctx.log(await this.requireManager())
    const free = await freeBytes(this.config.owlatDir)
    const needed = this.settings.OWLAT_MIN_FREE_DISK_MB * 1024 * 1024
    if (free < needed) throw new Error(`only ${mib(free)} free in ${this.config.owlatDir}, below the ${mib(needed)} an update needs (OWLAT_MIN_FREE_DISK_MB)`)
    ctx.log(`${mib(free)} free in ${this.config.owlatDir} (threshold ${mib(needed)})`)
    const current = readCompose(this.paths.current)
    if (current.version !== ctx.fromVersion) throw new Error(`the stack runs ${current.version}, but the job was planned from ${ctx.fromVersion}`)

    // Policy first: nothing else is read from a file the policy refuses.
    const policyOptions = composePolicyOptionsFromEnv(this.env, this.config.owlatDir)
    const policy = checkComposePolicy(ctx.compose, policyOptions)
    if (!policy.ok) throw new Error(describePolicyViolations(policy.violations))
    ctx.log('the target compose file passes the compose policy (Swarm keys included)')
    if (parseCompose(ctx.compose).version !== ctx.toVersion) throw new Error(`the compose file pins web ${parseCompose(ctx.compose).version}, not ${ctx.toVersion}`)
    const target = parseSwarmModel(ctx.compose)
    if (!target.services.has(this.settings.OWLAT_UPDATER_SERVICE) && await this.service(this.settings.OWLAT_UPDATER_SERVICE)) {
      throw new Error(`the target compose file has no ${this.settings.OWLAT_UPDATER_SERVICE} service, so deploying it would remove the running updater`)
    }
    const oneShots = deploySteps(parseComposeModel(ctx.compose)).steps.map(s => s.service)
    if (oneShots.length > 0) throw new Error(`the release deploys functions through ${oneShots.join(', ')}, one-shot services the swarm driver cannot run yet; use the compose driver for this release`)
    // The docker CLI's own reading of what it will deploy, judged by the policy as well.
    const deployText = this.deployText(ctx.compose, await this.updaterImage()).text
    if ((await this.cliFeatures()).config) {
      const rendered = await this.renderStack(deployText, ctx.signal)
      const judged = checkComposePolicy(rendered, policyOptions)
      if (!judged.ok) throw new Error(`${describePolicyViolations(judged.violations)} (as docker stack config renders it)`)
      ctx.log('docker stack config accepts the file to deploy, and what it renders passes the compose policy too')
    }
    else {
      const judged = checkComposePolicy(deployText, policyOptions)
      if (!judged.ok) throw new Error(describePolicyViolations(judged.violations))
      ctx.log(`the file to deploy passes the compose policy (this docker CLI, ${(await this.cliFeatures()).version}, has no stack config to render it: the policy judged it with merges and extends resolved and interpolation refused)`)
    }

    if (ctx.force) {
      ctx.log('force: skipping the health check of the running stack')
      return
    }
    const model = this.currentModel()
    const result = await this.waitForStack(model, null, PREFLIGHT_WAIT_MS, ctx.signal)
    if (!result.ok) throw new Error(`the running stack is not healthy, use force to update anyway: ${result.detail}`)
    ctx.log(`the stack is healthy (${this.managed(model).join(', ')})`)
  }

  async backup(ctx: StepContext): Promise<void> {
    ctx.skip(this.capabilities.backups.reason)
  }

  async stage(ctx: StepContext): Promise<void> {
    stageCompose(this.paths, ctx)
  }

  /** Pre-pulls every image the release names on this manager, so the deploy does not wait on the registry here. */
  async pull(ctx: StepContext): Promise<void> {
    const model = parseSwarmModel(ctx.compose)
    for (const service of stackServices(model)) {
      const image = model.services.get(service)!.image
      if (!image || service === this.settings.OWLAT_UPDATER_SERVICE) continue
      ctx.signal.throwIfAborted()
      const stream = await this.docker.pull(image)
      await new Promise<void>((resolve, reject) => {
        this.docker.modem.followProgress(stream, (err: Error | null, events: Array<{ error?: string, status?: string }>) => {
          const failed = events?.find(e => e.error)
          if (err || failed) reject(new Error(`pulling ${image} failed: ${err?.message ?? failed?.error}`))
          else resolve()
        })
      })
      ctx.log(`pulled ${image} (${service})`)
    }
    ctx.log('each node pulls what its tasks run when Swarm schedules them')
  }

  async deployFunctions(ctx: StepContext): Promise<void> {
    ctx.skip('the release has no one-shot deploy services (preflight refuses one that does)')
  }

  async promote(ctx: StepContext): Promise<void> {
    promoteCompose(this.paths, ctx)
  }

  /** `docker stack deploy` of the current file: Swarm replaces each task by its update policy. */
  async recreate(ctx: StepContext): Promise<void> {
    await this.deploy(readFileSync(this.paths.current, 'utf8'), ctx.log, ctx.signal)
  }

  async verify(ctx: StepContext, version: string): Promise<void> {
    const model = this.currentModel()
    const timeout = this.config.verifyTimeoutMs
    ctx.log(`waiting up to ${formatSeconds(timeout)} for Swarm to run every task of ${this.managed(model).join(', ')} healthy at its pinned image, and web to answer ${version} (${this.settings.OWLAT_WEB_VERSION_CHECK})`)
    const result = await this.waitForStack(model, version, timeout, ctx.signal)
    if (!result.ok) {
      await this.keepFailingOutput(ctx, model, version, result.detail)
      throw new Error(result.fatal ? result.detail : `the stack did not become healthy within ${formatSeconds(timeout)} (last: ${result.detail})`)
    }
    ctx.log(`every task runs healthy at its pinned image; web answers ${version}`)
  }

  async sample(ctx: StepContext, version: string): Promise<WatchSample> {
    const model = this.currentModel()
    const result = await this.checkStack(model, version, ctx.signal)
    if (result.ok) return { ok: true, detail: `every task of ${this.managed(model).join(', ')} runs healthy at its pinned image; web answers ${version}` }
    await this.keepFailingOutput(ctx, model, version, result.detail)
    return { ok: false, detail: result.detail }
  }

  /**
   * Puts the previous file back and deploys it. Where Swarm already rolled a service back itself
   * (`failure_action: rollback`), that deploy changes nothing there; it brings back every other
   * service the update had moved. Idempotent.
   */
  async restore(ctx: StepContext): Promise<void> {
    restoreCompose(this.paths, ctx)
    for (const service of stackServices(this.currentModel())) {
      const state = (await this.service(service))?.UpdateStatus
      if (state?.State?.startsWith('rollback')) ctx.log(`${service}: Swarm rolled it back itself (${state.State}${state.Message ? `: ${state.Message}` : ''})`)
    }
    await this.deploy(readFileSync(this.paths.current, 'utf8'), ctx.log, ctx.signal)
  }

  /** After a commit: the updater's own service moves to the image the current file pins (Swarm replaces its task). */
  async selfUpdate(): Promise<string> {
    const service = this.settings.OWLAT_UPDATER_SERVICE
    const pinned = this.currentModel().services.get(service)?.image
    const svc = await this.service(service)
    if (!pinned || !svc) return `nothing to do: no ${service} service in stack ${this.stack}`
    const running = svc.Spec.TaskTemplate.ContainerSpec.Image
    if (imageMatches(running, pinned)) return `nothing to do: ${service} already runs ${pinned}`
    await execa(this.settings.OWLAT_DOCKER_CMD, ['service', 'update', '--detach', '--with-registry-auth', '--image', pinned, svc.Spec.Name])
    return `Swarm moves ${service} from ${running} to ${pinned}`
  }

  /** The file the deploy uses for `text`: the updater's image is the one its service runs now. */
  private deployText(text: string, updaterImage: string | null) {
    return deployFile(text, { updaterService: this.settings.OWLAT_UPDATER_SERVICE, updaterImage, monitor: this.settings.OWLAT_SWARM_UPDATE_MONITOR })
  }

  private async deploy(text: string, log: (line: string) => void, signal?: AbortSignal): Promise<void> {
    const file = this.deployText(text, await this.updaterImage())
    for (const note of file.notes) log(note)
    writeAtomic(this.paths.deployed, file.text, 0o600)
    // Detached: Swarm rolls the services on its own and `verify` watches it (a CLI before 26 always is).
    const detach = (await this.cliFeatures()).detach ? ['--detach=true'] : []
    const argv = ['stack', 'deploy', ...detach, '--prune', '--with-registry-auth', '--resolve-image', 'always', '-c', this.paths.deployed, this.stack]
    this.deployedAt = Date.now()
    const result = await execa(this.settings.OWLAT_DOCKER_CMD, argv, { cwd: this.config.owlatDir, reject: false, all: true, cancelSignal: signal })
    for (const line of (result.all ?? '').split('\n')) if (line.trim() && !/--detach/.test(line)) log(line.trim())
    if (result.exitCode !== 0) throw new Error(`${this.settings.OWLAT_DOCKER_CMD} ${argv.join(' ')} exited with ${result.exitCode}: ${(result.stderr ?? '').trim().split('\n').at(-1) ?? ''}`)
    log(`deployed stack ${this.stack} from ${this.paths.current}; Swarm rolls each service by its update policy`)
  }

  private async renderStack(text: string, signal?: AbortSignal): Promise<string> {
    const file = join(this.config.owlatDir, `.owlat-stack.check-${process.pid}-${Date.now()}.yml`)
    writeAtomic(file, text, 0o600)
    try {
      const result = await execa(this.settings.OWLAT_DOCKER_CMD, ['stack', 'config', '-c', file], { cwd: this.config.owlatDir, reject: false, cancelSignal: signal })
      if (result.exitCode !== 0) throw new Error(`docker stack config rejects the file to deploy: ${(result.stderr ?? '').trim().split('\n').at(-1) ?? ''}`)
      return result.stdout
    }
    finally {
      rmSync(file, { force: true })
    }
  }

  /** What this docker CLI can do: `stack deploy --detach` and `stack config` came with later versions (26, 25). */
  private async cliFeatures(): Promise<{ version: string, detach: boolean, config: boolean }> {
    if (this.features) return this.features
    const cmd = this.settings.OWLAT_DOCKER_CMD
    const version = await execa(cmd, ['version', '--format', '{{.Client.Version}}'], { reject: false }).then(r => r.stdout.trim() || 'unknown')
    const deployHelp = await execa(cmd, ['stack', 'deploy', '--help'], { reject: false })
    if (deployHelp.exitCode !== 0) throw new Error(`${cmd} stack deploy is not available (${deployHelp.stderr.trim().split('\n').at(-1) ?? ''}): the swarm driver needs the docker CLI (OWLAT_DOCKER_CMD)`)
    const configHelp = await execa(cmd, ['stack', 'config', '--help'], { reject: false })
    this.features = { version, detach: deployHelp.stdout.includes('--detach'), config: configHelp.exitCode === 0 && configHelp.stdout.includes('--compose-file') }
    return this.features
  }

  /** The image the updater's service runs now (null when the updater does not run as a service of this stack). */
  private async updaterImage(): Promise<string | null> {
    return (await this.service(this.settings.OWLAT_UPDATER_SERVICE))?.Spec.TaskTemplate.ContainerSpec.Image ?? null
  }

  /** Throws unless this engine is a manager of an active swarm; says which. */
  private async requireManager(): Promise<string> {
    const info = await this.docker.info() as { Swarm?: { LocalNodeState?: string, ControlAvailable?: boolean, NodeID?: string, Managers?: number, Nodes?: number } }
    const swarm = info.Swarm
    if (swarm?.LocalNodeState !== 'active') throw new Error(`this engine is not part of a swarm (state ${swarm?.LocalNodeState ?? 'unknown'}): run docker swarm init, or choose another driver (OWLAT_DRIVER)`)
    if (!swarm.ControlAvailable) throw new Error('this engine is a swarm worker: the updater must run on a manager node (placement constraint node.role == manager)')
    return `this engine is a manager of a swarm of ${swarm.Nodes ?? '?'} node(s)`
  }

  private currentModel(): SwarmModel {
    return parseSwarmModel(readFileSync(this.paths.current, 'utf8'))
  }

  /** What `verify` judges: every stack service except the updater itself. */
  private managed(model: SwarmModel): string[] {
    return stackServices(model).filter(s => s !== this.settings.OWLAT_UPDATER_SERVICE)
  }

  private async service(name: string): Promise<SwarmService | null> {
    const all = await this.docker.listServices({ filters: { label: [`${STACK_LABEL}=${this.stack}`] } }) as unknown as SwarmService[]
    return all.find(s => s.Spec.Name === `${this.stack}_${name}`) ?? null
  }

  private async tasks(svc: SwarmService): Promise<SwarmTask[]> {
    return await this.docker.listTasks({ filters: { 'service': [svc.ID], 'desired-state': ['running'] } }) as unknown as SwarmTask[]
  }

  private async waitForStack(model: SwarmModel, version: string | null, timeoutMs: number, signal: AbortSignal): Promise<Check> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      signal.throwIfAborted()
      const result = await this.checkStack(model, version, signal)
      if (result.ok || result.fatal || Date.now() + POLL_MS > deadline) return result
      await sleep(POLL_MS, undefined, { signal })
    }
  }

  /**
   * Every managed service: its spec at the pinned image (Swarm has not rolled it back), no update
   * in progress or paused, as many tasks running at that image as the file asks for (a task runs
   * only once its healthcheck passed); then the web at `version`.
   */
  private async checkStack(model: SwarmModel, version: string | null, signal: AbortSignal): Promise<Check> {
    const webTasks: SwarmTask[] = []
    for (const name of this.managed(model)) {
      const wanted = model.services.get(name)!
      const svc = await this.service(name)
      if (!svc) return { ok: false, fatal: false, detail: `${name}: no service ${this.stack}_${name} in the swarm` }
      const pinned = wanted.image
      const spec = svc.Spec.TaskTemplate.ContainerSpec.Image
      const update = svc.UpdateStatus
      if (pinned && !imageMatches(spec, pinned)) {
        if (update?.State?.startsWith('rollback')) return { ok: false, fatal: true, detail: `${name}: Swarm rolled the update back (${update.State}: ${update.Message ?? 'no message'})` }
        return { ok: false, fatal: false, detail: `${name}: the service runs ${spec.split('@')[0]}, not ${pinned}` }
      }
      if (update?.State === 'paused') return { ok: false, fatal: true, detail: `${name}: Swarm paused the update (${update.Message ?? 'no message'})` }
      if (update?.State === 'updating' || update?.State === 'rollback_started') return { ok: false, fatal: false, detail: `${name}: Swarm is still updating it` }
      const tasks = await this.tasks(svc)
      const running = tasks.filter(t => t.Status.State === 'running' && (!pinned || imageMatches(t.Spec.ContainerSpec.Image, pinned)))
      const count = wanted.replicas ?? Math.max(1, tasks.length)
      if (running.length < count || running.length !== tasks.length) {
        const other = tasks.find(t => !running.includes(t))
        const why = other ? `; task ${other.Slot ?? other.ID.slice(0, 12)} is ${other.Status.State}${other.Status.Err ? ` (${other.Status.Err})` : ''}` : ''
        return { ok: false, fatal: false, detail: `${name}: ${running.length} of ${count} tasks running at ${pinned ?? 'its image'}${why}` }
      }
      const unhealthy = await this.unhealthyLocalTask(running)
      if (unhealthy) return { ok: false, fatal: true, detail: `${name}: task ${unhealthy} is unhealthy` }
      if (name === this.settings.OWLAT_WEB_SERVICE) webTasks.push(...running)
    }
    if (version === null) return { ok: true, fatal: false, detail: '' }
    if (!model.services.has(this.settings.OWLAT_WEB_SERVICE)) return { ok: false, fatal: true, detail: `the stack has no ${this.settings.OWLAT_WEB_SERVICE} service to ask for its version` }
    if (this.settings.OWLAT_WEB_VERSION_CHECK === 'http') {
      const result = await probeWeb({ baseUrl: this.settings.OWLAT_WEB_URL, secret: this.config.instanceSecret() }, version, signal)
      return result.ok ? { ok: true, fatal: false, detail: '' } : { ok: false, fatal: false, detail: `web: ${result.detail}` }
    }
    // exec: every web task's own /version, where its container runs on this node.
    for (const task of webTasks) {
      const id = task.Status.ContainerStatus?.ContainerID
      if (!id) continue
      const out = await execIn(this.docker, id, ['cat', '/version']).catch(() => null)
      if (!out || out.exitCode !== 0) return { ok: false, fatal: false, detail: `web: cat /version in task ${task.Slot ?? task.ID} failed` }
      if (out.stdout.trim() !== version) return { ok: false, fatal: false, detail: `web: task ${task.Slot ?? task.ID} says ${out.stdout.trim()}, expected ${version}` }
    }
    return { ok: true, fatal: false, detail: '' }
  }

  /**
   * Swarm replaces a task whose healthcheck fails; in between, a container on this node may
   * already say unhealthy. Tasks on other nodes are judged by Swarm's state alone.
   */
  private async unhealthyLocalTask(tasks: SwarmTask[]): Promise<string | null> {
    for (const task of tasks) {
      const id = task.Status.ContainerStatus?.ContainerID
      if (!id) continue
      const state = await this.docker.getContainer(id).inspect().then(c => c.State.Health?.Status, () => undefined)
      if (state === 'unhealthy') return String(task.Slot ?? task.ID.slice(0, 12))
    }
    return null
  }

  /** The failing service's own last lines (the web's when the detail names none) go with the step. */
  private async keepFailingOutput(ctx: StepContext, model: SwarmModel, version: string, detail: string): Promise<void> {
    const named = /^([\w.-]+):/.exec(detail)?.[1]
    const service = named && model.services.has(named) ? named : this.settings.OWLAT_WEB_SERVICE
    const serviceVersion = service === this.settings.OWLAT_WEB_SERVICE ? version : tagVersion(model.services.get(service)?.image ?? '')
    const entries = await this.serviceLogs(service, FAILING_LOG_LINES).catch((err: Error) => {
      ctx.log(`cannot read ${service}'s log from the swarm: ${err.message}`)
      return []
    })
    keepServiceOutput(ctx, service, serviceVersion, entries, this.deployedAt)
  }
}

/** A rehearsal this driver refuses (admission refuses it first, by the capability). */
function refusedRehearsal(reason: string): DriverRehearsal {
  const refuse = async () => {
    throw new Error(reason)
  }
  return {
    copyBytes: async () => 0,
    preflight: refuse,
    copy: refuse,
    stage: refuse,
    deployFunctions: refuse,
    start: refuse,
    verify: refuse,
    sample: refuse,
    teardown: async ctx => ctx.skip('nothing to tear down: the swarm driver makes no rehearsals'),
    sweep: async () => [],
  }
}
