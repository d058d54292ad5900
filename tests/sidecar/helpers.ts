/** Shared set-up for the sidecar tests: a bootstrapped data dir, signed requests, job bodies. */
import { spawn, type ChildProcess } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { bootstrapDataDir } from '../../scripts/bootstrap'
import { loadConfig } from '../../shared/config'
import { artifactNames, writeReleaseArtifacts } from '../../shared/release-artifacts'
import { INDEX_FILE, INDEX_SIGNATURE_FILE } from '../../shared/release-index'
import { signRequest } from '../../shared/request-signing'
import { SidecarClient as SharedSidecarClient } from '../../shared/sidecar-client'
import { signedManifest } from '../../shared/job-request'
import type { JobEvent, JobRequest, Job, SignedIndexBody, SignedManifest } from '../../shared/schemas/job'
import type { ReleaseManifest } from '../../shared/schemas/release'
import { isTerminalStatus } from '../../shared/run-state'
import { isPrerelease } from '../../shared/version'
import { freePort } from '../setup/ports'

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url))
export const FAKE_WEB = fileURLToPath(new URL('../fixtures/fake-web.mjs', import.meta.url))
/** A free port for the web the local driver runs, per test file. */
export const WEB_PORT = await freePort()

export function makeDataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'owlat-sidecar-'))
  bootstrapDataDir(dir)
  return dir
}

export function sidecarEnv(dataDir: string, updaterPort: number): Record<string, string> {
  return {
    OWLAT_DATA_DIR: dataDir,
    PORT: String(WEB_PORT),
    OWLAT_UPDATER_PORT: String(updaterPort),
    OWLAT_VERIFY_TIMEOUT_MS: '3000',
    // A short watch window: the suites judge what happens, not how long it lasts.
    OWLAT_WATCH_MS: '300',
    OWLAT_WEB_ENTRY: FAKE_WEB,
  }
}

export function testConfig(dataDir: string, updaterPort: number) {
  return loadConfig(sidecarEnv(dataDir, updaterPort))
}

export function instanceSecret(dataDir: string): string {
  return readFileSync(join(dataDir, 'instance-secret'), 'utf8').trim()
}

/** Signs a release of our own with the demo key (into `<dataDir>/custom-releases`). */
export function writeCustomRelease(dataDir: string, version: string, compose: string, manifest: Partial<Omit<ReleaseManifest, 'compose' | 'version'>> = {}): string {
  const dir = join(dataDir, 'custom-releases')
  // One publisher: the custom folder's index continues the demo folder's (jobIndex sends the newer).
  const demo = join(dataDir, 'releases')
  if (!existsSync(join(dir, INDEX_FILE)) && existsSync(join(demo, INDEX_FILE))) {
    mkdirSync(dir, { recursive: true })
    for (const name of [INDEX_FILE, INDEX_SIGNATURE_FILE]) copyFileSync(join(demo, name), join(dir, name))
  }
  writeReleaseArtifacts({
    dir,
    compose,
    privateKey: readFileSync(join(dataDir, 'keys', 'release-signing.pem'), 'utf8'),
    manifest: {
      version,
      channel: 'stable',
      publishedAt: '2026-11-20T10:00:00Z',
      severity: 'normal',
      images: [],
      migrations: { migratesData: false, rollbackFloor: null },
      notes: 'test release',
      ...manifest,
    },
  })
  return dir
}

/**
 * The signed index a job carries: the newest the test's publisher has signed, from the job's own
 * folder or the custom releases' (which continues the demo folder's), as a client that checked
 * for releases would send it.
 */
export function jobIndex(dataDir: string, dir: string): SignedIndexBody {
  const served = [dir, join(dataDir, 'custom-releases')].filter(d => existsSync(join(d, INDEX_FILE)))
    .map(d => ({ text: readFileSync(join(d, INDEX_FILE), 'utf8'), signature: readFileSync(join(d, INDEX_SIGNATURE_FILE), 'utf8').trim() }))
  const serial = (text: string) => (JSON.parse(text) as { serial: number }).serial
  const newest = served.sort((a, b) => serial(b.text) - serial(a.text))[0]
  if (!newest) throw new Error(`no signed release index in ${dir}`)
  return newest
}

/** A job body built from release artifacts (the demo ones by default), as the web or the CLI would send it. */
export function jobRequest(dataDir: string, version: string, overrides: Partial<JobRequest> = {}, dir = join(dataDir, 'releases')): JobRequest {
  const names = artifactNames(version)
  const index = overrides.index ?? jobIndex(dataDir, dir)
  return {
    runId: null,
    kind: 'update',
    targetVersion: version,
    manifest: readFileSync(join(dir, names.manifest)).toString('base64'),
    signature: readFileSync(join(dir, names.signature), 'utf8').trim(),
    compose: readFileSync(join(dir, names.compose), 'utf8'),
    requestedBy: { email: 'admin@example.com', via: 'cli' },
    force: false,
    // Asking for a pre-release is following the beta channel.
    channel: isPrerelease(version) ? 'beta' : 'stable',
    ...overrides,
    index,
  }
}

/** One release's manifest as a job request carries it. */
export function readSignedManifest(dir: string, version: string): SignedManifest {
  const names = artifactNames(version)
  return signedManifest({ manifestBytes: readFileSync(join(dir, names.manifest)), signature: readFileSync(join(dir, names.signature), 'utf8') })
}

export interface Answer {
  status: number
  body: unknown
}

/** The shared client, plus what tests need: raw answers, hand-made signatures, waiting for a job. */
export class SidecarClient extends SharedSidecarClient {
  constructor(baseUrl: string, private readonly instanceSecret: string) {
    super({ url: baseUrl, secret: instanceSecret, timeoutMs: 30_000 })
  }

  /** Signed request; `headers` replaces the signature headers when given. */
  async request(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Answer> {
    const text = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body)
    const answer = await this.send(method, path, { body: text, headers, sign: headers === undefined })
    return { status: answer.status, body: JSON.parse(answer.text) }
  }

  /** The signature headers the client would send, for a test to send (again, or altered) itself. */
  sign(method: string, path: string, body?: string, now?: number): Record<string, string> {
    return signRequest({ secret: this.instanceSecret, method, path, body, now })
  }

  /** Polls until `done(job)`; fails the test with the job's state if it never gets there. */
  async waitForJob(id: string, done: (job: Job) => boolean = job => isTerminalStatus(job.status), timeoutMs = 30_000): Promise<Job> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const job = await this.getJob(id)
      if (done(job)) return job
      if (Date.now() > deadline) throw new Error(`job ${id} did not reach the expected state: ${JSON.stringify(job)}`)
      await new Promise(resolve => setTimeout(resolve, 100))
    }
  }

  /** Every event of the job's stream after `lastEventId`, until the sidecar ends it. */
  async collectEvents(jobId: string, lastEventId: string | null = null): Promise<Array<{ id: number, event: JobEvent }>> {
    const out: Array<{ id: number, event: JobEvent }> = []
    for await (const { id, event } of this.events(jobId, { lastEventId, signal: new AbortController().signal })) out.push({ id: Number(id), event })
    return out
  }
}

/** What the web on WEB_PORT answers to the sidecar's signed version request. */
export async function webVersion(secret: string): Promise<string> {
  const path = '/api/system/version'
  const res = await fetch(`http://127.0.0.1:${WEB_PORT}${path}`, { headers: signRequest({ secret, method: 'GET', path }) })
  if (res.status !== 200) throw new Error(`web answered ${res.status}`)
  return ((await res.json()) as { version: string }).version
}

/** Polls `probe` until it resolves truthy (errors count as "not yet"). */
export async function eventually<T>(probe: () => Promise<T>, what: string, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  for (;;) {
    try {
      const value = await probe()
      if (value) return value
    }
    catch (err) {
      last = err
    }
    if (Date.now() > deadline) throw new Error(`${what} did not happen (last error: ${String(last)})`)
    await new Promise(resolve => setTimeout(resolve, 100))
  }
}

export interface SidecarProcess {
  child: ChildProcess
  stderr: () => string
  exited: Promise<{ code: number | null, signal: NodeJS.Signals | null }>
  /** SIGTERM unless it already ended; resolves once it has. */
  stop: () => Promise<void>
}

/** The sidecar as its own process (`node --import tsx sidecar/main.ts`), as production runs it. */
export function runSidecarProcess(env: Record<string, string>): SidecarProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'sidecar/main.ts'], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  let stderr = ''
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
  const exited = new Promise<{ code: number | null, signal: NodeJS.Signals | null }>(resolve => child.once('exit', (code, signal) => resolve({ code, signal })))
  return {
    child,
    stderr: () => stderr,
    exited,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
      await exited
    },
  }
}
