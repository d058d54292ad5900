/** Running `owlat` as the operator does: a real subprocess of cli/bin.mjs with its own environment. */
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { setTimeout as sleep } from 'node:timers/promises'
import { execa, type ResultPromise } from 'execa'
import { bootstrapDataDir } from '../../scripts/bootstrap'
import { expect } from 'vitest'
import { jobListSchema, jobSchema, sidecarHealthSchema } from '../../shared/schemas/job'
import { SidecarClient } from '../../shared/sidecar-client'
import { freePort } from '../setup/ports'

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url))
export const BIN = join(REPO_ROOT, 'cli', 'bin.mjs')

export interface CliResult {
  exitCode: number
  stdout: string
  stderr: string
}

/** Only what the test gives: the developer's own OWLAT_* variables must not leak in. */
function cleanEnv(env: Record<string, string>): Record<string, string> {
  const base: Record<string, string> = {}
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && !key.startsWith('OWLAT_') && key !== 'PORT') base[key] = value
  }
  return { ...base, ...env }
}

export function spawnCli(args: string[], env: Record<string, string>): ResultPromise<{ reject: false, extendEnv: false, stdin: 'ignore' }> {
  return execa(process.execPath, [BIN, ...args], { reject: false, extendEnv: false, env: cleanEnv(env), cwd: REPO_ROOT, stdin: 'ignore' })
}

export async function runCli(args: string[], env: Record<string, string>): Promise<CliResult> {
  const result = await spawnCli(args, env)
  return { exitCode: result.exitCode ?? -1, stdout: String(result.stdout), stderr: String(result.stderr) }
}

/** The stderr lines, without blank ones: the CLI promises exactly one on failure. */
export function stderrLines(result: CliResult): string[] {
  return result.stderr.split('\n').filter(line => line.trim() !== '')
}

export interface DemoInstance {
  dataDir: string
  releaseDir: string
  /** An OWLAT_DIR without a compose file or .env (the local driver needs none). */
  owlatDir: string
  secret: string
}

export function makeDemoInstance(): DemoInstance {
  const dataDir = mkdtempSync(join(tmpdir(), 'owlat-cli-'))
  const { releaseDir } = bootstrapDataDir(dataDir)
  const owlatDir = join(dataDir, 'project')
  mkdirSync(owlatDir)
  return { dataDir, releaseDir, owlatDir, secret: readFileSync(join(dataDir, 'instance-secret'), 'utf8').trim() }
}

export { freePort } from '../setup/ports'

export interface UpdaterProcess {
  url: string
  output: () => string
  stop: () => Promise<void>
}

/**
 * The updater as its own process (local driver, the fake web of tests/fixtures) for `env`'s
 * instance, once it answers a signed health request.
 */
export async function startUpdater(env: Record<string, string>, secret: string): Promise<UpdaterProcess> {
  const child = execa(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'sidecar', 'main.ts')], {
    cwd: REPO_ROOT,
    env: { ...env, OWLAT_WEB_ENTRY: join(REPO_ROOT, 'tests', 'fixtures', 'fake-web.mjs'), OWLAT_VERIFY_TIMEOUT_MS: '3000', OWLAT_WATCH_MS: '300' },
    reject: false,
    all: true,
  })
  let output = ''
  child.all?.on('data', (chunk: Buffer) => {
    output += chunk.toString()
  })
  const url = `http://127.0.0.1:${env.OWLAT_UPDATER_PORT}`
  const client = new SidecarClient({ url, secret, timeoutMs: 2000 })
  for (let attempt = 0; ; attempt++) {
    try {
      await client.health()
      break
    }
    catch (err) {
      if (attempt > 200 || child.exitCode !== null) {
        child.kill('SIGTERM')
        throw new Error(`the updater did not start: ${(err as Error).message}\n${output}`, { cause: err })
      }
      await sleep(100)
    }
  }
  return {
    url,
    output: () => output,
    stop: async () => {
      child.kill('SIGTERM')
      await child
    },
  }
}

/** A demo instance at 1.2.2 with its own updater process (local driver) on free ports, and the CLI's environment for it. */
export async function startDemoUpdater(): Promise<{ demo: DemoInstance, env: Record<string, string>, updater: UpdaterProcess }> {
  const demo = makeDemoInstance()
  const env = {
    OWLAT_DATA_DIR: demo.dataDir,
    OWLAT_DIR: demo.owlatDir,
    PORT: String(await freePort()),
    OWLAT_UPDATER_PORT: String(await freePort()),
  }
  return { demo, env, updater: await startUpdater(env, demo.secret) }
}

/** `owlat status --json`, parsed. */
export async function cliStatus(env: Record<string, string>) {
  const result = await runCli(['status', '--json'], env)
  expect(result.exitCode, result.stderr).toBe(0)
  const json = JSON.parse(result.stdout) as { activeJob: unknown }
  return { ...sidecarHealthSchema.parse(json), activeJob: jobSchema.nullable().parse(json.activeJob) }
}

/** `owlat history --json --limit 10`: the newest jobs, parsed. */
export async function cliHistory(env: Record<string, string>) {
  const result = await runCli(['history', '--json', '--limit', '10'], env)
  expect(result.exitCode, result.stderr).toBe(0)
  return jobListSchema.parse(JSON.parse(result.stdout)).jobs
}
