/**
 * The local driver's rehearsal: the target web on a copy of the data directory, on a free port,
 * verified, watched and stopped. The copy lives in `<dataDir>/rehearsals/<jobId>/`; its web's pid
 * file too, so a teardown after a restart finds a web the dead sidecar left running.
 */
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { getRandomPort } from 'get-port-please'
import type { OwlatConfig } from '../../shared/config'
import { diskFacts, minFreeDiskMbSchema } from '../../shared/node/checks/plan'
import { formatBytes } from '../../shared/format-bytes'
import { parseCompose, type ComposeWeb } from '../compose-file'
import { keepServiceOutput } from './service-output'
import type { DriverRehearsal, StepContext, WatchSample } from './types'
import { formatSeconds, probeWeb, waitForWeb, type WebTarget } from './web-probe'
import { WEB_HOST, WebProcess } from './web-process'

/** What of the data directory is not the web's data: the updater's own, the stack, earlier copies. */
const NOT_COPIED = new Set(['rehearsals', 'updater', 'stack', 'backups', 'releases'])
const SQLITE = /\.sqlite$/
/** Where the rehearsal's web would find an updater: nowhere, so it can start no job on the real one. */
const NO_UPDATER = 'http://127.0.0.1:1'

interface Running {
  web: WebProcess
  target: WebTarget
  startedAt: number
}

export class LocalRehearsal implements DriverRehearsal {
  private readonly running = new Map<string, Running>()

  constructor(private readonly config: OwlatConfig, private readonly opts: { webEntry: string, log: (line: string) => void, /** The environment the driver gives the web of `compose` (only what the compose file may set). */ webEnv: (compose: ComposeWeb) => NodeJS.ProcessEnv }) {}

  private dir(jobId: string): string {
    return join(this.config.dataDir, 'rehearsals', jobId)
  }

  private webOf(jobId: string, port = 0): WebProcess {
    return new WebProcess({ entry: this.opts.webEntry, port, pidFile: join(this.dir(jobId), 'web.pid'), log: this.opts.log })
  }

  async copyBytes(): Promise<number> {
    return sizeOf(this.config.dataDir, true)
  }

  async preflight(ctx: StepContext): Promise<void> {
    const copy = await this.copyBytes()
    const disk = await diskFacts(this.config.dataDir, 0, minFreeDiskMbSchema.parse(process.env.OWLAT_MIN_FREE_DISK_MB))
    if (!disk) return ctx.log(`cannot read the free space of ${this.config.dataDir}; the copy takes ${formatBytes(copy)}`)
    const need = copy + disk.needBytes
    if (disk.freeBytes < need) throw new Error(`the copy of the data (${formatBytes(copy)}) and the minimum free space (${formatBytes(disk.needBytes)}) need ${formatBytes(need)}, but ${disk.path} has ${formatBytes(disk.freeBytes)} free`)
    ctx.log(`the copy of the data takes ${formatBytes(copy)}; ${formatBytes(disk.freeBytes)} free in ${disk.path}`)
  }

  async copy(ctx: StepContext): Promise<void> {
    const dir = this.dir(ctx.jobId)
    rmSync(dir, { recursive: true, force: true })
    const data = join(dir, 'data')
    mkdirSync(data, { recursive: true, mode: 0o700 })
    for (const name of readdirSync(this.config.dataDir)) {
      if (NOT_COPIED.has(name) || /\.sqlite-(wal|shm|journal)$/.test(name)) continue
      const from = join(this.config.dataDir, name)
      if (SQLITE.test(name)) {
        // The web has it open: SQLite's online backup copies a consistent snapshot.
        const db = new Database(from, { readonly: true, fileMustExist: true })
        try {
          await db.backup(join(data, name))
        }
        finally {
          db.close()
        }
      }
      else {
        cpSync(from, join(data, name), { recursive: true })
      }
    }
    ctx.log(`copied the data directory ${this.config.dataDir} to ${data} (${formatBytes(sizeOf(data, false))})`)
  }

  async stage(ctx: StepContext): Promise<void> {
    const compose = parseCompose(ctx.compose)
    ctx.log(`the rehearsal runs web ${compose.version} from ${this.opts.webEntry} on the copy in ${join(this.dir(ctx.jobId), 'data')}`)
  }

  async deployFunctions(ctx: StepContext): Promise<void> {
    ctx.skip('local driver: no Convex deployment')
  }

  async start(ctx: StepContext): Promise<void> {
    const before = this.running.get(ctx.jobId)
    if (before) await before.web.stop()
    const port = await getRandomPort(WEB_HOST)
    const web = this.webOf(ctx.jobId, port)
    const compose = parseCompose(ctx.compose)
    const env: NodeJS.ProcessEnv = {
      ...this.opts.webEnv(compose),
      PORT: String(port),
      OWLAT_DATA_DIR: join(this.dir(ctx.jobId), 'data'),
      OWLAT_UPDATER_URL: NO_UPDATER,
    }
    const startedAt = Date.now()
    const pid = await web.start({ version: compose.version, image: compose.image, env })
    this.running.set(ctx.jobId, { web, target: { baseUrl: `http://${WEB_HOST}:${port}`, secret: String(env.OWLAT_INSTANCE_SECRET) }, startedAt })
    ctx.log(`started web ${compose.version} (pid ${pid}) on the copy, at http://${WEB_HOST}:${port} (no updater: it cannot start a job)`)
  }

  private runningOf(ctx: StepContext): Running {
    const running = this.running.get(ctx.jobId)
    if (!running) throw new Error('the rehearsal\'s web is not running (the updater restarted since it started)')
    return running
  }

  async verify(ctx: StepContext, version: string): Promise<void> {
    const { web, target, startedAt } = this.runningOf(ctx)
    ctx.log(`waiting up to ${formatSeconds(this.config.verifyTimeoutMs)} for ${target.baseUrl} to be healthy at ${version}`)
    try {
      await waitForWeb(target, version, this.config.verifyTimeoutMs, ctx.signal)
    }
    catch (err) {
      if (!ctx.signal.aborted) keepServiceOutput(ctx, 'web', version, web.logs(1000), startedAt)
      throw err
    }
    ctx.log(`the rehearsal's web (pid ${web.pid}) is healthy and answers ${version}`)
  }

  async sample(ctx: StepContext, version: string): Promise<WatchSample> {
    const { web, target, startedAt } = this.runningOf(ctx)
    const result = web.state === 'running' ? await probeWeb(target, version, ctx.signal) : { ok: false as const, detail: `the process is ${web.state}` }
    if (result.ok) return { ok: true, detail: `the rehearsal's web (pid ${web.pid}) is healthy and answers ${version}` }
    keepServiceOutput(ctx, 'web', version, web.logs(1000), startedAt)
    return { ok: false, detail: `web: ${result.detail}` }
  }

  async teardown(ctx: StepContext): Promise<void> {
    for (const line of await this.remove(ctx.jobId)) ctx.log(line)
  }

  async sweep(keepJobIds: readonly string[]): Promise<string[]> {
    const root = join(this.config.dataDir, 'rehearsals')
    if (!existsSync(root)) return []
    const lines: string[] = []
    for (const jobId of readdirSync(root)) {
      if (!keepJobIds.includes(jobId)) lines.push(...await this.remove(jobId))
    }
    return lines
  }

  /** Stops the rehearsal's web (this sidecar's, or one a dead sidecar left) and deletes the copy. */
  private async remove(jobId: string): Promise<string[]> {
    const lines: string[] = []
    const running = this.running.get(jobId)
    this.running.delete(jobId)
    const stopped = running ? await running.web.stop() : await this.webOf(jobId).stopOrphan()
    lines.push(stopped ? `stopped the rehearsal's web (pid ${stopped.pid}, ${stopped.signal})` : 'the rehearsal\'s web was not running')
    const dir = this.dir(jobId)
    if (existsSync(dir)) {
      rmSync(dir, { recursive: true, force: true })
      lines.push(`removed the copy of the data (${dir})`)
    }
    else {
      lines.push('there was no copy of the data to remove')
    }
    return lines
  }
}

/** Bytes under `path` (the copy's size); `skipOwn`: leave out what a rehearsal does not copy. */
function sizeOf(path: string, skipOwn: boolean): number {
  let total = 0
  for (const entry of readdirSync(path, { withFileTypes: true })) {
    if (skipOwn && NOT_COPIED.has(entry.name)) continue
    const full = join(path, entry.name)
    if (entry.isDirectory()) total += sizeOf(full, false)
    else if (entry.isFile()) total += statSync(full).size
  }
  return total
}
