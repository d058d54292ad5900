/**
 * The compose CLI, for changes only (pull, run, up): `docker compose` (v2) or `docker-compose`
 * (v1), detected or set with OWLAT_COMPOSE_CMD. Always argument arrays (execa, no shell), always
 * an explicit project name, directory and file, so v1 and v2 address the same containers.
 *
 * The operator's `docker-compose.override.yml` in the project folder, when there is one, is
 * merged on top of every file the driver acts on (current, staged, previous, the config check):
 * compose loads it by itself only without `-f`, and an operator's override must survive updates.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { execa } from 'execa'
import { bundledOverrideArgs, servicesToPull, type BundledImages } from './bundled-images'
import { isAlive, terminate, waitForDeath } from './processes'

/** The operator's own changes to the stack, kept across updates (compose's default override name). */
export const OVERRIDE_FILE = 'docker-compose.override.yml'

/** The override file of `projectDir`, or null when it has none. */
export function overrideFile(projectDir: string): string | null {
  const path = join(projectDir, OVERRIDE_FILE)
  return existsSync(path) ? path : null
}

/** `-f` arguments for `file` with the project's override merged on top. */
/** The release's file, the operator's override, and the one running bundled images (bundled-images.ts). */
export function fileArgs(file: string, projectDir: string, images: BundledImages = new Map()): string[] {
  const override = overrideFile(projectDir)
  return ['-f', file, ...(override ? ['-f', override] : []), ...bundledOverrideArgs(file, images)]
}

export interface ComposeCommand {
  /** argv prefix, e.g. `['docker', 'compose']` or `['docker-compose']`. */
  argv: string[]
  flavour: 'v1' | 'v2'
  version: string
}

/** Log lines kept from a failing command for its error message. */
const ERROR_TAIL = 5
/** How long `version` may take before a candidate counts as absent. */
const DETECT_TIMEOUT_MS = 15_000

async function probe(argv: string[]): Promise<ComposeCommand | null> {
  const result = await execa(argv[0]!, [...argv.slice(1), 'version'], { reject: false, timeout: DETECT_TIMEOUT_MS, stdin: 'ignore' })
  if (result.exitCode !== 0) return null
  const out = String(result.stdout)
  const match = /version v?(\d+\.\d+\.\d+[\w.+-]*)/i.exec(out)
  if (!match) return null
  const version = match[1]!.replace(/,$/, '')
  // v2 prints "Docker Compose version v2.x"; v1 prints "docker-compose version 1.29.2, build …".
  return { argv, flavour: version.startsWith('1.') ? 'v1' : 'v2', version }
}

/** `OWLAT_COMPOSE_CMD` (split on spaces, never run through a shell), else v2, else v1. */
export async function detectCompose(configured: string | undefined): Promise<ComposeCommand> {
  if (configured?.trim()) {
    const argv = configured.trim().split(/\s+/)
    const found = await probe(argv)
    if (!found) throw new Error(`OWLAT_COMPOSE_CMD="${configured}" does not answer "${argv.join(' ')} version"`)
    return found
  }
  for (const argv of [['docker', 'compose'], ['docker-compose']]) {
    const found = await probe(argv)
    if (found) return found
  }
  throw new Error('no compose CLI found: neither "docker compose version" nor "docker-compose version" works (set OWLAT_COMPOSE_CMD)')
}

export interface ComposeRunOptions {
  /** Compose file to act on (the current one, or the staged one for pull). */
  file: string
  args: string[]
  profiles?: string[]
  signal?: AbortSignal
  /** Every output line, for the step's log. */
  onLine?: (line: string) => void
}

export interface ComposeCliOptions {
  command: ComposeCommand
  project: string
  projectDir: string
  /**
   * Holds the pid of the command in flight, so a sidecar started after a crash can wait for
   * (or end) a compose process its predecessor left running before it runs its own.
   */
  pidFile: string
  /** Where the override file is looked for (default `projectDir`): a rehearsal keeps its own, rewritten. */
  overrideDir?: string
  /** Images offline bundles loaded, by pinned reference: run from there, never pulled. */
  bundledImages?: () => BundledImages
}

export class ComposeCli {
  constructor(private readonly opts: ComposeCliOptions) {}

  get command(): ComposeCommand {
    return this.opts.command
  }

  /** Global arguments every invocation shares. */
  baseArgs(file: string, profiles: string[] = [], { override = true }: { override?: boolean } = {}): string[] {
    const { project, projectDir, overrideDir } = this.opts
    const files = override ? fileArgs(file, overrideDir ?? projectDir, this.opts.bundledImages?.()) : ['-f', file]
    return ['-p', project, '--project-directory', projectDir, ...files, ...profiles.flatMap(p => ['--profile', p])]
  }

  async run(opts: ComposeRunOptions): Promise<void> {
    const [bin, ...prefix] = this.opts.command.argv
    let command = opts.args
    const images = this.opts.bundledImages?.() ?? new Map<string, string>()
    if (command[0] === 'pull' && command.length === 1 && images.size > 0) {
      // A bundled image has no registry to come from (an air-gapped host): pull only the others.
      const rest = servicesToPull(opts.file, images)
      if (rest.length === 0) {
        opts.onLine?.('every image was loaded from a verified offline release bundle: nothing to pull')
        return
      }
      command = ['pull', ...rest]
    }
    const args = [...prefix, ...this.baseArgs(opts.file, opts.profiles), ...command]
    const tail: string[] = []
    const child = execa(bin!, args, {
      cwd: this.opts.projectDir,
      all: true,
      reject: false,
      stdin: 'ignore',
      cancelSignal: opts.signal,
      // Compose and the engine print progress with ANSI codes unless told otherwise.
      env: { COMPOSE_ANSI: 'never', NO_COLOR: '1' },
    })
    this.writePid(child.pid)
    try {
      for await (const raw of child.iterable({ from: 'all' })) {
        const line = String(raw).trimEnd()
        if (!line) continue
        tail.push(line)
        if (tail.length > ERROR_TAIL) tail.shift()
        opts.onLine?.(line)
      }
      const result = await child
      if (result.isCanceled) throw new Error(`${this.describe(opts.args)} was cancelled`)
      if (result.exitCode !== 0) {
        throw new Error(`${this.describe(opts.args)} exited with ${result.exitCode ?? result.signal}${tail.length ? `: ${tail.join(' | ')}` : ''}`)
      }
    }
    finally {
      rmSync(this.opts.pidFile, { force: true })
    }
  }

  describe(args: string[]): string {
    return [...this.opts.command.argv, ...args].join(' ')
  }

  /**
   * Settles a compose command a crashed sidecar left running: lets it finish for up to `graceMs`
   * (it may be half-way through recreating), then ends it. Returns what happened, or null.
   */
  async settleOrphan(graceMs: number): Promise<string | null> {
    let pid: number
    try {
      pid = Number(readFileSync(this.opts.pidFile, 'utf8').trim())
    }
    catch {
      return null
    }
    rmSync(this.opts.pidFile, { force: true })
    if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid) || !runsCompose(pid)) return null
    if (await waitForDeath(pid, graceMs)) return `waited for compose process ${pid} left by a previous updater to finish`
    const signal = await terminate(pid, 5000)
    return `ended compose process ${pid} left by a previous updater (${signal})`
  }

  private writePid(pid: number | undefined): void {
    if (pid === undefined) return
    mkdirSync(dirname(this.opts.pidFile), { recursive: true, mode: 0o700 })
    writeFileSync(this.opts.pidFile, `${pid}\n`, { mode: 0o600 })
  }
}

/** A recycled pid from a stale pid file must not be waited on, let alone killed. */
function runsCompose(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('compose')
  }
  catch {
    return false
  }
}
