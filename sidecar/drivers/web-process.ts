/**
 * Supervises the web as a child process (`node <entry>`): spawn, bounded output capture,
 * restart with backoff when it dies on its own, a pid file so a sidecar that was SIGKILLed can
 * find and stop the orphan it left behind.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import type { ServiceLogEntry } from '../../shared/service-output'
import { LineBuffer } from '../line-buffer'
import { isAlive, runsEntry, terminate, waitPortFree } from './processes'

const FIRST_BACKOFF_MS = 1000
const MAX_BACKOFF_MS = 10_000
const STOP_GRACE_MS = 10_000
const ORPHAN_GRACE_MS = 5000
const PORT_FREE_TIMEOUT_MS = 15_000
export const WEB_HOST = '127.0.0.1'

export interface WebSpec {
  version: string
  image: string
  env: NodeJS.ProcessEnv
}

export type WebState = 'running' | 'restarting' | 'exited'

export interface WebProcessOptions {
  entry: string
  port: number
  pidFile: string
  /** Supervisor events (exits, restarts) for the sidecar's own log. */
  log: (line: string) => void
}

export class WebProcess {
  private child: ChildProcess | null = null
  private current: WebSpec | null = null
  private restartTimer: NodeJS.Timeout | null = null
  private backoffMs = FIRST_BACKOFF_MS
  private readonly output = new LineBuffer()

  constructor(private readonly opts: WebProcessOptions) {}

  get pid(): number | null {
    return this.child?.pid ?? null
  }

  /** What the web was last started as (the running version), null before the first start. */
  get spec(): WebSpec | null {
    return this.current
  }

  get state(): WebState {
    if (this.child) return 'running'
    return this.restartTimer ? 'restarting' : 'exited'
  }

  /** The newest lines the web wrote (every process it ran), each with its time and version. */
  logs(tail: number): ServiceLogEntry[] {
    return this.output.entriesTail(tail)
  }

  /**
   * Stops a web left running by a sidecar that died without stopping it (the pid file names a
   * live process running our entry). Returns its pid, or null when there was none.
   */
  async stopOrphan(): Promise<{ pid: number, signal: string } | null> {
    const pid = this.readPidFile()
    if (pid === null || pid === this.pid || !runsEntry(pid, this.opts.entry)) return null
    const signal = await terminate(pid, ORPHAN_GRACE_MS)
    rmSync(this.opts.pidFile, { force: true })
    return { pid, signal }
  }

  /** Spawns the web once the port is free; resolves with its pid. */
  async start(spec: WebSpec): Promise<number> {
    if (this.child) throw new Error(`web is already running (pid ${this.child.pid})`)
    this.clearRestart()
    this.current = spec
    this.backoffMs = FIRST_BACKOFF_MS
    await waitPortFree(this.opts.port, WEB_HOST, PORT_FREE_TIMEOUT_MS)
    return this.spawnChild(spec)
  }

  /** SIGTERM, SIGKILL after 10 s; no restart follows. Returns how it ended, null if nothing ran. */
  async stop(): Promise<{ pid: number, signal: string } | null> {
    this.clearRestart()
    const child = this.child
    if (!child?.pid) return null
    this.child = null
    const exited = new Promise<void>(resolve => child.once('exit', () => resolve()))
    const signal = child.exitCode === null && child.signalCode === null
      ? await Promise.race([terminate(child.pid, STOP_GRACE_MS), exited.then(() => 'SIGTERM' as const)])
      : 'SIGTERM'
    rmSync(this.opts.pidFile, { force: true })
    return { pid: child.pid, signal }
  }

  private spawnChild(spec: WebSpec): Promise<number> {
    const child = spawn(process.execPath, [this.opts.entry], { env: spec.env, stdio: ['ignore', 'pipe', 'pipe'] })
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => this.output.write(chunk, spec.version, `${child.pid}:out`))
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => this.output.write(chunk, spec.version, `${child.pid}:err`))
    const startedAt = Date.now()
    return new Promise((resolve, reject) => {
      child.once('error', (err) => {
        if (this.child === child) this.child = null
        reject(new Error(`cannot start the web (${this.opts.entry}): ${err.message}`))
      })
      child.once('spawn', () => {
        this.child = child
        child.once('exit', (code, signal) => this.onExit(child, code, signal, startedAt))
        this.writePidFile(child.pid!)
        resolve(child.pid!)
      })
    })
  }

  private onExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null, startedAt: number): void {
    // stop() clears `this.child` first, so only an exit nobody asked for gets here.
    if (this.child !== child || !this.current) return
    this.child = null
    // A child that stayed up longer than the longest wait counts as recovered.
    if (Date.now() - startedAt > MAX_BACKOFF_MS) this.backoffMs = FIRST_BACKOFF_MS
    const delay = this.backoffMs
    this.backoffMs = Math.min(this.backoffMs * 2, MAX_BACKOFF_MS)
    const line = `web (pid ${child.pid}) exited unexpectedly (${signal ?? `code ${code}`}); restarting in ${delay / 1000} s`
    this.output.push(`[updater] ${line}`, this.current.version)
    this.opts.log(line)
    const spec = this.current
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null
      this.spawnChild(spec).catch(err => this.opts.log((err as Error).message))
    }, delay)
  }

  /**
   * Only for finding an orphan after a crash: a full disk must not stop the web from running, so
   * a pid file that cannot be written is said and skipped.
   */
  private writePidFile(pid: number): void {
    try {
      mkdirSync(dirname(this.opts.pidFile), { recursive: true, mode: 0o700 })
      writeFileSync(this.opts.pidFile, `${pid}\n`, { mode: 0o600 })
    }
    catch (err) {
      this.opts.log(`cannot write ${this.opts.pidFile} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); a crashed updater would not find web pid ${pid}`)
    }
  }

  private clearRestart(): void {
    if (this.restartTimer) clearTimeout(this.restartTimer)
    this.restartTimer = null
  }

  private readPidFile(): number | null {
    if (!existsSync(this.opts.pidFile)) return null
    const pid = Number(readFileSync(this.opts.pidFile, 'utf8').trim())
    return Number.isInteger(pid) && pid > 0 && isAlive(pid) ? pid : null
  }
}
