/**
 * Starts the real stack for route tests: a bootstrapped temp data dir, the updater sidecar as a
 * subprocess (`node --import tsx sidecar/main.ts`), which starts and supervises the built web.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { bootstrapDataDir } from '../../scripts/bootstrap'
import { artifactNames, writeReleaseArtifacts } from '../../shared/release-artifacts'
import type { ReleaseManifest } from '../../shared/schemas/release'
import { freePort } from '../setup/ports'

export const ROOT = resolve(import.meta.dirname, '../..')
export const WEB_PORT = await freePort()
export const UPDATER_PORT = await freePort()
export const WEB = `http://127.0.0.1:${WEB_PORT}`
export const ADMIN = { email: 'admin@example.com', password: 'admin-password-1' }
export const MEMBER = { email: 'member@example.com', password: 'member-password-1' }

/** Builds the web once when there is no build output (about 1–2 min). */
export function ensureWebBuild(): void {
  if (existsSync(join(ROOT, '.output/server/index.mjs'))) return
  // The standalone app (playground/) writes its build to the repository's .output/.
  execFileSync('npx', ['nuxt', 'build', 'playground'], { cwd: ROOT, stdio: 'inherit' })
}

/** The environment without any OWLAT_* / NUXT_* the developer's shell may carry. */
export function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('OWLAT_') && !k.startsWith('NUXT_') && k !== 'PORT'))
}

export function createUserViaScript(dataDir: string, args: string[]): { status: number, stdout: string, stderr: string } {
  try {
    const stdout = execFileSync(process.execPath, ['--import', 'tsx', 'scripts/create-user.ts', ...args], {
      cwd: ROOT,
      env: { ...cleanEnv(), OWLAT_DATA_DIR: dataDir },
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    return { status: 0, stdout, stderr: '' }
  }
  catch (err) {
    const e = err as { status: number | null, stdout: string, stderr: string }
    return { status: e.status ?? 1, stdout: e.stdout, stderr: e.stderr }
  }
}

/** Polls `probe` until it returns a value; fails with what it last saw after `timeoutMs`. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let last: unknown = 'nothing yet'
  while (Date.now() < deadline) {
    try {
      const value = await probe()
      if (value !== undefined) return value
    }
    catch (err) {
      last = err
    }
    await sleep(200)
  }
  throw new Error(`timed out waiting for ${what}; last: ${last instanceof Error ? last.message : String(last)}`)
}

export interface Stack {
  dataDir: string
  releaseDir: string
  secret: string
  output: () => string
  stop: () => Promise<void>
}

/**
 * `env` adds to the stack's environment (e.g. a release source other than the demo folder);
 * `prepare` changes the bootstrapped data dir before the updater starts; `unhealthy` waits only
 * for the web to answer, not to be healthy (a stack that runs a broken version).
 */
export async function startStack(opts: { env?: Record<string, string>, prepare?: (dataDir: string) => void, unhealthy?: boolean } = {}): Promise<Stack> {
  ensureWebBuild()
  const dataDir = mkdtempSync(join(tmpdir(), 'owlat-web-routes-'))
  const { releaseDir } = bootstrapDataDir(dataDir)
  opts.prepare?.(dataDir)
  const member = createUserViaScript(dataDir, ['--email', MEMBER.email, '--password', MEMBER.password, '--role', 'member'])
  if (member.status !== 0) throw new Error(`create-user failed: ${member.stderr}`)

  let output = ''
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'sidecar/main.ts'], {
    cwd: ROOT,
    env: {
      ...cleanEnv(),
      PORT: String(WEB_PORT),
      OWLAT_UPDATER_PORT: String(UPDATER_PORT),
      OWLAT_DATA_DIR: dataDir,
      OWLAT_ADMIN_EMAIL: ADMIN.email,
      OWLAT_ADMIN_PASSWORD: ADMIN.password,
      // The new web renders its page once before it counts as up (server/utils/warm-up.ts).
      OWLAT_VERIFY_TIMEOUT_MS: '20000',
      OWLAT_WATCH_MS: '500',
      ...opts.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (output += d))
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (output += d))
  const exited = new Promise<void>(resolve => child.once('exit', () => resolve()))

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
    await exited
    rmSync(dataDir, { recursive: true, force: true })
  }

  try {
    await Promise.race([
      waitFor('the web to answer /api/healthz', async () => {
        const res = await fetch(`${WEB}/api/healthz`)
        if (res.status === 200) return true
        // A broken version answers that it is unhealthy once warm (not "warming up").
        return opts.unhealthy && res.status === 503 && (await res.json() as { status?: string }).status === 'unhealthy' ? true : undefined
      }),
      exited.then(() => {
        throw new Error(`the sidecar exited during start:\n${output}`)
      }),
    ])
  }
  catch (err) {
    await stop()
    throw err
  }
  return { dataDir, releaseDir, secret: readFileSync(join(dataDir, 'instance-secret'), 'utf8').trim(), output: () => output, stop }
}

/**
 * Adds a release signed with the demo key to the stack's release folder: the 1.2.2 compose file
 * re-pinned to `version`, a stable normal release unless `manifest` says otherwise. Returns its file names.
 */
export function addRelease(stack: Pick<Stack, 'dataDir' | 'releaseDir'>, version: string, manifest: Partial<Omit<ReleaseManifest, 'compose' | 'version'>> = {}): ReturnType<typeof artifactNames> {
  writeReleaseArtifacts({
    dir: stack.releaseDir,
    compose: readFileSync(join(stack.releaseDir, artifactNames('1.2.2').compose), 'utf8').replaceAll('1.2.2', version),
    privateKey: readFileSync(join(stack.dataDir, 'keys', 'release-signing.pem'), 'utf8'),
    manifest: {
      version,
      channel: 'stable',
      publishedAt: '2026-06-01T10:00:00Z',
      severity: 'normal',
      images: [],
      migrations: { migratesData: false, rollbackFloor: null },
      notes: `Release ${version}.`,
      ...manifest,
    },
  })
  return artifactNames(version)
}

/**
 * Takes a demo release out of a bootstrapped data dir (for `startStack`'s `prepare`): the route
 * tests written before the demo's required stop 1.3.1 read 1.3.0 as the newest release.
 */
export function withoutDemoRelease(version: string): (dataDir: string) => void {
  return (dataDir) => {
    for (const file of Object.values(artifactNames(version))) rmSync(join(dataDir, 'releases', file), { force: true })
  }
}
