/**
 * The product as `npm start` runs it (the updater sidecar with the local driver, which starts and
 * supervises the built web), on a throwaway data dir with the demo releases, for the benches.
 * The sidecar runs from its compiled bundle (dist/, `npm run build:tools`) as `npm start` does.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { bootstrapDataDir } from '../../scripts/bootstrap'
import { freePort } from '../../tests/setup/ports'

export const ROOT = resolve(import.meta.dirname, '../..')
export const ADMIN = { email: 'bench@example.com', password: 'bench-password-1' }

export interface BenchStack {
  web: string
  updater: string
  dataDir: string
  secret: string
  sidecarPid: number
  /** The supervised web's pid, as its pid file says. */
  webPid(): number
  /** A signed-in admin's cookie header. */
  login(): Promise<string>
  output(): string
  stop(): Promise<void>
}

export function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('OWLAT_') && !k.startsWith('NUXT_') && k !== 'PORT'))
}

export function sidecarCommand(): string[] {
  const bundle = join(ROOT, 'dist/sidecar.mjs')
  if (!existsSync(bundle)) throw new Error('dist/sidecar.mjs is missing: npm run build:tools')
  return [bundle]
}

export async function waitUntil(what: string, probe: () => Promise<boolean>, timeoutMs = 120_000, everyMs = 100): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (await probe().catch(() => false)) return
    await sleep(everyMs)
  }
  throw new Error(`timed out waiting for ${what}`)
}

export async function startBenchStack(env: Record<string, string> = {}): Promise<BenchStack> {
  if (!existsSync(join(ROOT, '.output/server/index.mjs'))) throw new Error('.output is missing: npm run build')
  const dataDir = mkdtempSync(join(tmpdir(), 'owlat-bench-'))
  bootstrapDataDir(dataDir)
  const webPort = await freePort()
  const updaterPort = await freePort()
  let output = ''
  const child: ChildProcess = spawn(process.execPath, sidecarCommand(), {
    cwd: ROOT,
    env: {
      ...cleanEnv(),
      NODE_ENV: 'production',
      PORT: String(webPort),
      OWLAT_UPDATER_PORT: String(updaterPort),
      OWLAT_DATA_DIR: dataDir,
      OWLAT_ADMIN_EMAIL: ADMIN.email,
      OWLAT_ADMIN_PASSWORD: ADMIN.password,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (output = (output + d).slice(-20_000)))
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (output = (output + d).slice(-20_000)))
  const exited = new Promise<void>(res => child.once('exit', () => res()))
  const web = `http://127.0.0.1:${webPort}`
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
    await exited
    rmSync(dataDir, { recursive: true, force: true })
  }
  try {
    await Promise.race([
      waitUntil('the web to answer /api/healthz', async () => (await fetch(`${web}/api/healthz`)).status === 200),
      exited.then(() => {
        throw new Error(`the sidecar exited during start:\n${output}`)
      }),
    ])
  }
  catch (err) {
    await stop()
    throw err
  }
  return {
    web,
    updater: `http://127.0.0.1:${updaterPort}`,
    dataDir,
    secret: readFileSync(join(dataDir, 'instance-secret'), 'utf8').trim(),
    sidecarPid: child.pid!,
    webPid: () => Number(readFileSync(join(dataDir, 'updater', 'web.pid'), 'utf8').trim()),
    async login() {
      const res = await fetch(`${web}/api/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'origin': web },
        body: JSON.stringify(ADMIN),
      })
      if (res.status !== 200) throw new Error(`sign-in answered ${res.status}`)
      return res.headers.getSetCookie().map(c => c.split(';')[0]).join('; ')
    },
    output: () => output,
    stop,
  }
}

/** Resident memory of a process, in MB (/proc). */
export function rssMb(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find(l => l.startsWith('VmRSS:'))!
  return Number(line.split(/\s+/)[1]) / 1024
}

export const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2
}
export const percentile = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!
}
export const fmt = (xs: number[], digits = 0) => `[${xs.map(x => x.toFixed(digits)).join(', ')}]`

/** Starts a run through the web as the page does; resolves with its id. */
export async function startRun(stack: BenchStack, cookie: string, kind: 'updates' | 'rollbacks' | 'rehearsals', targetVersion: string): Promise<string> {
  const res = await fetch(`${stack.web}/api/system/${kind}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'origin': stack.web, cookie },
    body: JSON.stringify({ targetVersion, ...(kind === 'updates' ? { backup: false } : {}) }),
  })
  if (res.status !== 202) throw new Error(`POST /api/system/${kind} answered ${res.status}: ${await res.text()}`)
  return ((await res.json()) as { runId: string }).runId
}

/** Waits for the run to end (read from the web, which may be restarting); returns it. */
export async function runToEnd(stack: BenchStack, cookie: string, runId: string): Promise<{ status: string, startedAt: number, endedAt: number | null, jobId: string | null }> {
  for (;;) {
    try {
      const res = await fetch(`${stack.web}/api/system/updates/${runId}`, { headers: { cookie } })
      if (res.status === 200) {
        const run = await res.json() as { status: string, startedAt: number, endedAt: number | null, jobId: string | null }
        if (run.status !== 'queued' && run.status !== 'running') return run
      }
    }
    catch {
      // the web is restarting
    }
    await sleep(100)
  }
}
