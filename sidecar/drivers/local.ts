/**
 * The `local` driver (embedded defaults, tests): the stack is the web alone, run as a child
 * process at the version its compose file pins. Compose files live in `<dataDir>/stack/`.
 */
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import type { OwlatConfig } from '../../shared/config'
import { diskFacts, minFreeDiskMbSchema } from '../../shared/node/checks/plan'
import { skip, type Check } from '../../shared/node/checks/types'
import type { HostFacts, ServiceHealth } from '../../shared/schemas/job'
import { PRIVATE_FILE_MODE } from '../../shared/node/private-files'
import type { ServiceLogEntry } from '../../shared/service-output'
import { readCompose, type ComposeWeb } from '../compose-file'
import { keepServiceOutput } from './service-output'
import { promoteCompose, restoreCompose, stageCompose } from './stack-files'
import { LocalRehearsal } from './local-rehearsal'
import type { Driver, StepContext, WatchSample } from './types'
import { formatSeconds, probeWeb, waitForWeb, webHealth, type WebTarget } from './web-probe'
import { WEB_HOST, WebProcess } from './web-process'

const SESSION_PASSWORD_FILE = 'session-password'
/** How long preflight waits for a web that is still starting before calling it unhealthy. */
const PREFLIGHT_WAIT_MS = 5000

export interface LocalDriverOptions {
  /** Absolute path of the web's server entry (`.output/server/index.mjs`). */
  webEntry: string
  /** The sidecar's own log. */
  log: (line: string) => void
}

export function stackPaths(dataDir: string) {
  const dir = join(dataDir, 'stack')
  return {
    current: join(dir, 'docker-compose.yml'),
    next: join(dir, 'docker-compose.next.yml'),
    prev: join(dir, 'docker-compose.prev.yml'),
    // Inside the data dir: owner only.
    mode: PRIVATE_FILE_MODE,
  }
}

/**
 * What of the compose file's `environment` reaches the web process: a signed compose file must
 * not be able to set NODE_OPTIONS, LD_PRELOAD, the session key or the updater's own settings.
 * Public runtime config and the demo's fault switch; nothing else.
 */
export const WEB_ENV_ALLOWED: readonly RegExp[] = [/^NUXT_PUBLIC_[A-Z0-9_]+$/, /^OWLAT_DEMO_FAULT$/]

export function allowedWebEnv(environment: Record<string, string>): { env: Record<string, string>, dropped: string[] } {
  const env: Record<string, string> = {}
  const dropped: string[] = []
  for (const [name, value] of Object.entries(environment)) {
    if (WEB_ENV_ALLOWED.some(pattern => pattern.test(name))) env[name] = value
    else dropped.push(name)
  }
  return { env, dropped }
}

export class LocalDriver implements Driver {
  readonly name = 'local' as const
  readonly capabilities = {
    backups: { supported: false, reason: 'the local driver runs no data volumes, so there is nothing to back up or restore' },
    dataRestore: false,
    selfUpdate: false,
    images: false,
    rehearsals: { supported: true, reason: null },
  }

  readonly projectDir: string
  readonly rehearsal: LocalRehearsal
  private readonly paths: ReturnType<typeof stackPaths>
  private readonly web: WebProcess
  private readonly target: WebTarget
  /** When this updater last (re)started the web: the output `verify` keeps is what came after. */
  private startedWebAt: number | null = null

  constructor(private readonly config: OwlatConfig, private readonly opts: LocalDriverOptions) {
    this.paths = stackPaths(config.dataDir)
    this.projectDir = dirname(this.paths.current)
    this.web = new WebProcess({
      entry: opts.webEntry,
      port: config.port,
      pidFile: join(config.dataDir, 'updater', 'web.pid'),
      log: opts.log,
    })
    this.target = { baseUrl: `http://${WEB_HOST}:${config.port}`, secret: config.instanceSecret() }
    this.rehearsal = new LocalRehearsal(config, { webEntry: opts.webEntry, log: opts.log, webEnv: compose => this.webEnv(compose) })
  }

  async start(): Promise<void> {
    const orphan = await this.web.stopOrphan()
    if (orphan) this.opts.log(`stopped the web left running by a previous updater (pid ${orphan.pid}, ${orphan.signal})`)
    const pid = await this.startWeb()
    this.opts.log(`started web ${this.web.spec?.version} (pid ${pid}) on ${this.target.baseUrl}`)
  }

  async stop(): Promise<void> {
    const stopped = await this.web.stop()
    if (stopped) this.opts.log(`stopped web (pid ${stopped.pid}, ${stopped.signal})`)
  }

  installedVersion(): string {
    return readCompose(this.paths.current).version
  }

  async health(): Promise<ServiceHealth[]> {
    // What runs (or last ran) is the truth; before the first start it is the current compose file.
    const { image, version } = this.web.spec ?? readCompose(this.paths.current)
    const base = { name: 'web', image, version }
    if (this.web.state !== 'running') return [{ ...base, state: this.web.state, health: 'none' }]
    const health = await webHealth(this.target)
    // A live process that does not answer yet is still booting.
    if (health === 'unreachable') return [{ ...base, state: 'starting', health: 'starting' }]
    return [{ ...base, state: 'running', health }]
  }

  /** No engine, no compose: the web's build is already on disk, so only the configured minimum counts. */
  async hostFacts(): Promise<Omit<HostFacts, 'updater'>> {
    const disk = await diskFacts(this.config.dataDir, 0, minFreeDiskMbSchema.parse(process.env.OWLAT_MIN_FREE_DISK_MB))
    const copyBytes = await this.rehearsal.copyBytes().catch(() => undefined)
    return { engine: null, compose: null, disk: disk && copyBytes !== undefined ? { ...disk, copyBytes } : disk }
  }

  async checks(): Promise<Check[]> {
    return [skip('stack', 'the local driver runs no compose stack')]
  }

  secretEnvironments(): Array<Record<string, string | undefined>> {
    return [process.env]
  }

  serviceLogs(service: string, tail: number): ServiceLogEntry[] {
    if (service !== 'web') throw new Error(`unknown service ${service} (the local driver runs: web)`)
    return this.web.logs(tail)
  }

  async preflight(ctx: StepContext): Promise<void> {
    const current = readCompose(this.paths.current)
    ctx.log(`current stack runs web ${current.version} (${this.paths.current})`)
    if (current.version !== ctx.fromVersion) {
      throw new Error(`the stack runs ${current.version}, but the job was planned from ${ctx.fromVersion}`)
    }
    if (ctx.force) {
      ctx.log('force: skipping the health check of the running web')
      return
    }
    await waitForWeb(this.target, current.version, PREFLIGHT_WAIT_MS, ctx.signal).catch((err: Error) => {
      throw new Error(`the running stack is not healthy, use force to update anyway: ${err.message}`)
    })
    ctx.log(`web ${current.version} (pid ${this.web.pid}) is healthy`)
  }

  async backup(ctx: StepContext): Promise<void> {
    if (!ctx.backup) return ctx.skip('no backup requested for this job')
    ctx.skip('local driver: no data volumes to back up')
  }

  async stage(ctx: StepContext): Promise<void> {
    stageCompose(this.paths, ctx)
  }

  async pull(ctx: StepContext): Promise<void> {
    if (!existsSync(this.opts.webEntry)) throw new Error(`web entry ${this.opts.webEntry} does not exist (build the web first)`)
    ctx.log(`local driver: nothing to pull; web entry ${this.opts.webEntry} is present`)
  }

  async deployFunctions(ctx: StepContext): Promise<void> {
    ctx.skip('local driver: no Convex deployment')
  }

  async promote(ctx: StepContext): Promise<void> {
    promoteCompose(this.paths, ctx)
  }

  async recreate(ctx: StepContext): Promise<void> {
    const stopped = await this.web.stop()
    ctx.log(stopped ? `stopped web (pid ${stopped.pid}, ${stopped.signal})` : 'web was not running')
    const pid = await this.startWeb()
    ctx.log(`started web ${this.web.spec?.version} (pid ${pid})`)
  }

  async verify(ctx: StepContext, version: string): Promise<void> {
    ctx.log(`waiting up to ${formatSeconds(this.config.verifyTimeoutMs)} for ${this.target.baseUrl} to be healthy at ${version}`)
    try {
      await waitForWeb(this.target, version, this.config.verifyTimeoutMs, ctx.signal)
    }
    catch (err) {
      if (!ctx.signal.aborted) keepServiceOutput(ctx, 'web', version, this.web.logs(1000), this.startedWebAt)
      throw err
    }
    ctx.log(`web (pid ${this.web.pid}) is healthy and answers ${version}`)
  }

  async sample(ctx: StepContext, version: string): Promise<WatchSample> {
    const state = this.web.state
    const result = state === 'running' ? await probeWeb(this.target, version, ctx.signal) : { ok: false as const, detail: `the process is ${state}` }
    if (result.ok) return { ok: true, detail: `web (pid ${this.web.pid}) is healthy and answers ${version}` }
    keepServiceOutput(ctx, 'web', version, this.web.logs(1000), this.startedWebAt)
    return { ok: false, detail: `web: ${result.detail}` }
  }

  async restore(ctx: StepContext): Promise<void> {
    restoreCompose(this.paths, ctx)
    await this.recreate(ctx)
  }

  /** The updater is this process; `npm start` runs it from the checkout. */
  async selfUpdate(): Promise<string> {
    return 'the local driver runs the updater in-process: nothing to update'
  }

  /** Starts the web from the current compose file, with the environment the brief pins. */
  private startWeb(): Promise<number> {
    const compose = readCompose(this.paths.current)
    this.startedWebAt = Date.now()
    return this.web.start({ version: compose.version, image: compose.image, env: this.webEnv(compose) })
  }

  private webEnv(compose: ComposeWeb): NodeJS.ProcessEnv {
    const sessionFile = join(this.config.dataDir, SESSION_PASSWORD_FILE)
    const sessionPassword = process.env.NUXT_SESSION_PASSWORD
      ?? (existsSync(sessionFile) ? readFileSync(sessionFile, 'utf8').trim() : undefined)
    const { env, dropped } = allowedWebEnv(compose.environment)
    if (dropped.length > 0) {
      this.opts.log(`web ${compose.version}: not passing ${dropped.join(', ')} from the compose file's environment to the web (only NUXT_PUBLIC_* and OWLAT_DEMO_FAULT are)`)
    }
    return {
      ...process.env,
      ...env,
      PORT: String(this.config.port),
      HOST: WEB_HOST,
      NITRO_HOST: WEB_HOST,
      OWLAT_VERSION: compose.version,
      OWLAT_INSTANCE_SECRET: this.target.secret,
      ...(sessionPassword ? { NUXT_SESSION_PASSWORD: sessionPassword } : {}),
    }
  }
}
