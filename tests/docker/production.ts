/**
 * The production path on the real engine, shared by tests/docker/production.test.ts and the
 * Playwright spec of playwright.stack.config.ts: this repository's images (`npm run images`) pushed
 * to the local registry, releases signed by `npm run release:artifacts` from deploy/docker-compose.yml,
 * and the stack installed by deploy/install.sh into a temporary OWLAT_DIR, with
 * tests/docker/stand-ins/docker-compose.override.yml swapping in stand-ins for the images that
 * cannot be pulled here (tests/docker/stand-ins).
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto'
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseEnv } from 'node:util'
import Docker from 'dockerode'
import { execa } from 'execa'
import { parseDocument } from 'yaml'
import { buildReleaseArtifacts, OWN_IMAGES } from '../../scripts/release-artifacts'
import { DEFAULT_ALLOWED_IMAGE_PREFIXES } from '../../shared/compose-policy'
import { runSchema, versionInfoSchema, type Run } from '../../shared/schemas/api'
import { sha256Hex } from '../../shared/release-verify'
import { isTerminalStatus } from '../../shared/run-state'
import { HELPER_LABEL, PROJECT_LABEL } from '../../sidecar/drivers/docker-engine'
import { freePort } from '../setup/ports'
import { REGISTRY } from './images'

export const ROOT = fileURLToPath(new URL('../..', import.meta.url))
/** Where the suite pushes `npm run images`' images (a namespace of its own: tests/docker/images.ts owns `owlat/`). */
export const PROD_PREFIX = `${REGISTRY}/owlat-prod/`
export const STANDIN_PREFIX = `${REGISTRY}/owlat-standin/`
export const STANDINS = ['convex-backend', 'redis', 'docker-socket-proxy'] as const
/** The compose policy of the stack: the defaults, plus the registry the suite's own images come from. */
export const ALLOWED_IMAGE_PREFIXES = [...DEFAULT_ALLOWED_IMAGE_PREFIXES, PROD_PREFIX].join(',')
export const ADMIN = { email: 'admin@example.test', password: 'production-admin-password-1' } as const

export const prodImage = (service: string, version: string) => `${PROD_PREFIX}${service}:${version}`

/** Runs `npm run images -- VERSION` and pushes the three images under PROD_PREFIX; returns how long the build took. */
export async function buildAndPushImages(version: string): Promise<{ buildSeconds: number }> {
  const started = Date.now()
  await execa('bash', ['scripts/images.sh', version], { cwd: ROOT })
  const buildSeconds = (Date.now() - started) / 1000
  for (const service of OWN_IMAGES) {
    await execa('docker', ['tag', `owlat/${service}:${version}`, prodImage(service, version)])
    await execa('docker', ['push', '-q', prodImage(service, version)])
  }
  return { buildSeconds }
}

/** Builds the stand-ins (tests/docker/stand-ins) on the same base as the images and pushes them. */
export async function buildAndPushStandIns(): Promise<void> {
  const { stdout } = await execa('bash', ['scripts/images.sh', '--print-base'], { cwd: ROOT })
  const base = /^BASE_IMAGE=(.+)$/m.exec(stdout)?.[1]
  if (!base) throw new Error(`scripts/images.sh --print-base printed no BASE_IMAGE: ${stdout}`)
  for (const target of STANDINS) {
    const ref = `${STANDIN_PREFIX}${target}:1`
    await execa('docker', ['build', '-q', '--target', target, '--build-arg', `BASE_IMAGE=${base}`, '-t', ref, join(ROOT, 'tests/docker/stand-ins')], { env: { DOCKER_BUILDKIT: '0' } })
    await execa('docker', ['push', '-q', ref])
  }
}

export interface TestRelease {
  version: string
  publishedAt: string
  notes: string
  /**
   * A release that cannot start: its compose file runs the web from an entry point its image does
   * not have (as a release whose packaging moved the server would), so the container exits at once.
   */
  broken?: boolean
}

export interface Releases {
  dir: string
  publicKeyPem: string
}

/**
 * The upstream images (Convex backend, Redis, socket proxy) cannot be resolved here, so their
 * digests in the release are placeholders; they are never pulled, because the override file
 * replaces these images by the stand-ins.
 */
function placeholderPin(image: string): string {
  return `${image.split('@')[0]}@sha256:${sha256Hex(`unresolvable here, replaced by a stand-in: ${image}`)}`
}

/** Signed releases of the images under PROD_PREFIX, made by the maintainers' tool from the production compose file. */
export function makeReleases(versions: TestRelease[]): Releases {
  const work = mkdtempSync(join(tmpdir(), 'owlat-prod-releases-'))
  const dir = join(work, 'releases')
  const { privateKey, publicKey } = generateKeyPairSync('ed25519')
  writeFileSync(join(work, 'release-signing.pem'), privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 })
  const template = readFileSync(join(ROOT, 'deploy/docker-compose.yml'), 'utf8')
  const upstream = parseDocument(template)
  const pins = ['convex', 'redis', 'docker-socket-proxy'].flatMap((service) => {
    const image = upstream.getIn(['services', service, 'image'])
    if (typeof image !== 'string') throw new Error(`deploy/docker-compose.yml has no image for ${service}`)
    return ['--image', `${service}=${placeholderPin(image)}`]
  })
  for (const release of versions) {
    const doc = parseDocument(template)
    if (release.broken) doc.setIn(['services', 'web', 'command'], ['node', 'server/main.mjs'])
    const file = join(work, `template-${release.version}.yml`)
    writeFileSync(file, doc.toString())
    writeFileSync(join(work, `notes-${release.version}.md`), release.notes)
    buildReleaseArtifacts([
      release.version, '--template', file, '--images', PROD_PREFIX, ...pins,
      '--key', join(work, 'release-signing.pem'), '--out', dir,
      '--published-at', release.publishedAt, '--notes', join(work, `notes-${release.version}.md`),
    ], { ...process.env, OWLAT_ALLOWED_IMAGE_PREFIXES: ALLOWED_IMAGE_PREFIXES })
  }
  return { dir, publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString() }
}

export interface ProdStack {
  /** Temporary folder holding OWLAT_DIR and the bin folder; removed by `removeStack`. */
  root: string
  /** OWLAT_DIR */
  dir: string
  project: string
  /** The `owlat` wrapper install.sh wrote. */
  owlat: string
  baseUrl: string
  installEnv: Record<string, string>
  /** What install.sh printed. */
  installOutput: string
}

/** Runs deploy/install.sh (again, for an installed stack) with the stack's settings. */
export async function runInstaller(stack: Pick<ProdStack, 'installEnv'>): Promise<string> {
  const result = await execa('bash', [join(ROOT, 'deploy/install.sh')], { env: stack.installEnv, all: true, reject: false })
  if (result.exitCode !== 0) throw new Error(`install.sh exited with ${result.exitCode}:\n${result.all}`)
  return String(result.all)
}

/**
 * A fresh OWLAT_DIR (its folder name, hence the compose project, unique) with the stand-ins
 * override and the releases in ./releases, installed at `installed` by deploy/install.sh.
 */
export async function installStack(releases: Releases, installed: string, settings: Record<string, string> = {}): Promise<ProdStack> {
  const root = mkdtempSync(join(tmpdir(), 'owlat-prod-'))
  const project = `owlatprod${randomBytes(4).toString('hex')}`
  const dir = join(root, project)
  mkdirSync(join(dir, 'releases'), { recursive: true })
  copyFileSync(join(ROOT, 'tests/docker/stand-ins/docker-compose.override.yml'), join(dir, 'docker-compose.override.yml'))
  for (const file of readdirSync(releases.dir)) copyFileSync(join(releases.dir, file), join(dir, 'releases', file))
  const httpPort = await freePort()
  const installEnv: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    OWLAT_DIR: dir,
    OWLAT_BIN_DIR: join(root, 'bin'),
    OWLAT_COMPOSE_FILE: join(releases.dir, `docker-compose-${installed}.yml`),
    OWLAT_RELEASE_PUBLIC_KEY: releases.publicKeyPem,
    OWLAT_HTTP_PORT: String(httpPort),
    OWLAT_CONVEX_PORT: String(await freePort()),
    OWLAT_CONVEX_SITE_PORT: String(await freePort()),
    OWLAT_ALLOWED_IMAGE_PREFIXES: ALLOWED_IMAGE_PREFIXES,
    OWLAT_ADMIN_EMAIL: ADMIN.email,
    OWLAT_ADMIN_PASSWORD: ADMIN.password,
    OWLAT_MIN_FREE_DISK_MB: '100',
    OWLAT_VERIFY_TIMEOUT_MS: '30000',
    OWLAT_WATCH_MS: '5000',
    ...settings,
  }
  const stack: ProdStack = { root, dir, project, owlat: join(root, 'bin', 'owlat'), baseUrl: `http://127.0.0.1:${httpPort}`, installEnv, installOutput: '' }
  stack.installOutput = await runInstaller(stack)
  return stack
}

/** The stack's `.env` as compose reads it. */
export function readDotenv(stack: ProdStack): Record<string, string> {
  return Object.fromEntries(Object.entries(parseEnv(readFileSync(join(stack.dir, '.env'), 'utf8'))).filter((e): e is [string, string] => e[1] !== undefined))
}

/** Every container, volume and network of the stack (and the updater's helpers), then its folder. */
export async function removeStack(stack: ProdStack): Promise<void> {
  const docker = new Docker()
  const label = `${PROJECT_LABEL}=${stack.project}`
  const helpers = await docker.listContainers({ all: true, filters: { label: [HELPER_LABEL] } })
  const ours = await Promise.all(helpers.map(async c => ((await docker.getContainer(c.Id).inspect()).Config.Env ?? []).includes(`OWLAT_DIR=${stack.dir}`) ? c.Id : null))
  const containers = await docker.listContainers({ all: true, filters: { label: [label] } })
  for (const id of [...containers.map(c => c.Id), ...ours.filter(id => id !== null)]) {
    await docker.getContainer(id).remove({ force: true, v: true }).catch(() => {})
  }
  const { Volumes } = await docker.listVolumes({ filters: { label: [label] } })
  for (const v of Volumes ?? []) await docker.getVolume(v.Name).remove().catch(() => {})
  for (const n of await docker.listNetworks({ filters: { label: [label] } })) await docker.getNetwork(n.Id).remove().catch(() => {})
  rmSync(stack.root, { recursive: true, force: true })
}

/** The web's pinned API, signed in as a platform admin through `POST /api/auth/login`. */
export class WebApi {
  private cookie = ''

  constructor(readonly baseUrl: string) {}

  async signIn(user: { email: string, password: string } = ADMIN): Promise<void> {
    const res = await fetch(`${this.baseUrl}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(user) })
    if (!res.ok) throw new Error(`sign-in answered ${res.status}: ${await res.text()}`)
    this.cookie = res.headers.getSetCookie().map(c => c.split(';')[0]).join('; ')
  }

  async request(method: string, path: string, body?: unknown): Promise<{ status: number, body: unknown }> {
    const res = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: { cookie: this.cookie, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    })
    const text = await res.text()
    let parsed: unknown = text
    try {
      parsed = JSON.parse(text)
    }
    catch {
      // not JSON: keep the text for the assertion message
    }
    return { status: res.status, body: parsed }
  }

  async version(): Promise<string> {
    const { status, body } = await this.request('GET', '/api/system/version')
    if (status !== 200) throw new Error(`GET /api/system/version answered ${status}`)
    return versionInfoSchema.parse(body).version
  }

  /**
   * Follows a run until it ends. The web goes away while it is recreated (and the updater while it
   * updates itself), so unanswered requests are retried until `timeoutMs`.
   */
  async waitForRun(runId: string, timeoutMs = 240_000): Promise<Run> {
    const deadline = Date.now() + timeoutMs
    let last = 'no answer yet'
    while (Date.now() < deadline) {
      try {
        const { status, body } = await this.request('GET', `/api/system/updates/${runId}`)
        if (status === 200) {
          const run = runSchema.parse(body)
          if (isTerminalStatus(run.status)) return run
          last = `${run.status} (${run.steps.filter(s => s.status === 'running').map(s => s.name).join(', ') || 'between steps'})`
        }
        else {
          last = `answered ${status}`
        }
      }
      catch (err) {
        last = (err as Error).message
      }
      await new Promise(r => setTimeout(r, 1000))
    }
    throw new Error(`run ${runId} did not end within ${timeoutMs / 1000} s (last: ${last})`)
  }
}

/** Waits until `url` answers 200 (the web after an install or a recreation). */
export async function waitForHttp(url: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const ok = await fetch(url, { signal: AbortSignal.timeout(2000) }).then(r => r.ok, () => false)
    if (ok) return
    await new Promise(r => setTimeout(r, 500))
  }
  throw new Error(`${url} did not answer 200 within ${timeoutMs / 1000} s`)
}
