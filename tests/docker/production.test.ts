/**
 * The production path, run for real: `npm run images` builds this repository's three images,
 * they are pushed to the local registry, `npm run release:artifacts` signs releases of them made
 * from deploy/docker-compose.yml, and deploy/install.sh installs the stack into a temporary
 * OWLAT_DIR, with tests/docker/stand-ins/docker-compose.override.yml putting stand-ins in place of
 * the Convex backend, Redis and the socket proxy (images this machine cannot pull). Then, through
 * the web's pinned API as a platform admin, the real updater container updates the stack, restores
 * a broken release by itself, rolls back, and updates itself after each commit through its helper.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import type Docker from 'dockerode'
import { execa } from 'execa'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { artifactNames } from '../../shared/release-artifacts'
import { jobSchema } from '../../shared/schemas/job'
import { execIn, HELPER_LABEL, PROJECT_LABEL } from '../../sidecar/drivers/docker-engine'
import { containersByService, requireDocker, SKIP_DOCKER } from './stack'
import {
  ADMIN, buildAndPushImages, buildAndPushStandIns, installStack, makeReleases, prodImage, readDotenv, removeStack, ROOT, runInstaller, WebApi,
  type ProdStack, type Releases,
} from './production'

const INSTALLED = '1.2.2'
const TARGET = '1.3.0'
/** Its compose file starts the web from an entry point the image does not have: the web exits at once. */
const BROKEN = '1.3.1'

/** Image builds (a first one compiles the web: minutes on two cores), pushes, the install. */
const SETUP_TIMEOUT_MS = 20 * 60_000
const RUN_TIMEOUT_MS = 5 * 60_000
/** A test: its run, the self-update after it, and the checks (two busy cores make a run take a minute). */
const TEST_TIMEOUT_MS = RUN_TIMEOUT_MS + 3 * 60_000

const historySchema = z.object({ jobs: z.array(jobSchema) })

async function output(docker: Docker, container: string, cmd: string[]): Promise<string> {
  const result = await execIn(docker, container, cmd)
  if (result.exitCode !== 0) throw new Error(`${cmd.join(' ')} exited with ${result.exitCode}: ${result.stderr}`)
  return result.stdout
}

describe.skipIf(SKIP_DOCKER)('the production stack, installed by deploy/install.sh and updated by its own updater', () => {
  let docker: Docker
  let releases: Releases
  let stack: ProdStack
  let api: WebApi
  const timings: string[] = []

  /** Deployments the Convex stand-in recorded, oldest first (`owlat <version>` is convex-deploy's message). */
  async function functionDeployments(): Promise<string[]> {
    const convex = (await containersByService(docker, stack.project)).convex!
    const text = await output(docker, convex.id, ['cat', '/convex/data/pushes.jsonl'])
    return text.trim().split('\n').filter(Boolean).map(line => z.object({ message: z.string() }).parse(JSON.parse(line)).message)
  }

  async function updaterJobs(): Promise<z.infer<typeof historySchema>['jobs']> {
    const { stdout } = await execa(stack.owlat, ['history', '--json'])
    return historySchema.parse(JSON.parse(stdout)).jobs
  }

  /** The updater container runs `version`'s image: the self-update helper moved it there. */
  async function waitForUpdater(version: string): Promise<void> {
    const deadline = Date.now() + 90_000
    for (;;) {
      const updater = (await containersByService(docker, stack.project)).updater
      if (updater?.running && updater.health === 'healthy' && updater.image.startsWith(`${prodImage('updater', version)}@sha256:`)) return
      if (Date.now() > deadline) throw new Error(`the updater did not come back on ${version} (now ${updater?.image} ${updater?.state} ${updater?.health})`)
      await new Promise(r => setTimeout(r, 1000))
    }
  }

  async function run(path: string, body: Record<string, unknown>) {
    const started = Date.now()
    const accepted = await api.request('POST', path, body)
    expect(accepted.status, JSON.stringify(accepted.body)).toBe(202)
    const done = await api.waitForRun(z.object({ runId: z.string() }).parse(accepted.body).runId, RUN_TIMEOUT_MS)
    timings.push(`${done.kind} ${done.fromVersion} → ${done.toVersion}: ${done.status} in ${((Date.now() - started) / 1000).toFixed(1)} s`)
    return done
  }

  beforeAll(async () => {
    docker = await requireDocker()
    const started = Date.now()
    await buildAndPushStandIns()
    for (const version of [INSTALLED, TARGET, BROKEN]) {
      const { buildSeconds } = await buildAndPushImages(version)
      timings.push(`npm run images -- ${version}: ${buildSeconds.toFixed(1)} s`)
    }
    releases = makeReleases([
      { version: INSTALLED, publishedAt: '2026-09-01T10:00:00Z', notes: `## ${INSTALLED}\n\n- Faster contact import.\n` },
      { version: TARGET, publishedAt: '2026-11-01T10:00:00Z', notes: `## ${TARGET}\n\n**New:** segments can be scheduled.\n` },
      { version: BROKEN, publishedAt: '2026-11-20T10:00:00Z', notes: `## ${BROKEN}\n\n- Repackaged server.\n`, broken: true },
    ])
    const installing = Date.now()
    stack = await installStack(releases, INSTALLED)
    timings.push(`deploy/install.sh: ${((Date.now() - installing) / 1000).toFixed(1)} s (set-up in all ${((Date.now() - started) / 1000).toFixed(0)} s)`)
    api = new WebApi(stack.baseUrl)
  }, SETUP_TIMEOUT_MS)

  afterAll(async () => {
    // The figures the closing notes quote.
    if (timings.length) console.log(`production path:\n  ${timings.join('\n  ')}`)
    if (stack && process.env.OWLAT_KEEP_TEST_STACK !== '1') await removeStack(stack)
  }, 120_000)

  it('install.sh writes a 0600 .env with generated secrets, lays out the release, and starts a healthy stack', async () => {
    expect(statSync(join(stack.dir, '.env')).mode & 0o777).toBe(0o600)
    const env = readDotenv(stack)
    expect(env.OWLAT_DIR).toBe(stack.dir)
    for (const secret of ['OWLAT_INSTANCE_SECRET', 'NUXT_SESSION_PASSWORD', 'CONVEX_INSTANCE_SECRET']) expect(env[secret]).toMatch(/^[0-9a-f]{64}$/)
    expect(new Set([env.OWLAT_INSTANCE_SECRET, env.NUXT_SESSION_PASSWORD, env.CONVEX_INSTANCE_SECRET]).size).toBe(3)
    // Made by the backend once it ran, then written into .env before the web started.
    expect(env.CONVEX_ADMIN_KEY).toMatch(/^owlat\|[0-9a-f]{64}$/)
    expect(Buffer.from(env.OWLAT_RELEASE_PUBLIC_KEY!, 'base64').toString('utf8')).toBe(releases.publicKeyPem)
    expect(readFileSync(join(stack.dir, 'docker-compose.yml'), 'utf8')).toBe(readFileSync(join(releases.dir, artifactNames(INSTALLED).compose), 'utf8'))

    const services = await containersByService(docker, stack.project)
    expect(Object.keys(services).sort()).toEqual(['convex', 'docker-socket-proxy', 'redis', 'updater', 'web'])
    for (const c of Object.values(services)) expect(c, c.name).toMatchObject({ running: true, health: 'healthy' })
    expect(services.web!.image).toMatch(new RegExp(`^${prodImage('web', INSTALLED).replace(/[.]/g, '\\.')}@sha256:[0-9a-f]{64}$`))
    expect(services.updater!.image).toMatch(/owlat-prod\/updater:1\.2\.2@sha256:/)
    // The web serves as the image's unprivileged user; the updater is root (it owns the project folder).
    expect((await output(docker, services.web!.id, ['id', '-u'])).trim()).toBe('1000')

    await api.signIn(ADMIN)
    expect(await api.version()).toBe(INSTALLED)
    // convex-deploy ran this version's functions against the backend before the web started.
    expect(await functionDeployments()).toEqual([`owlat ${INSTALLED}`])

    // The wrapper runs the CLI inside the updater container: the host needs only Docker.
    const status = await execa(stack.owlat, ['status', '--json'])
    expect(JSON.parse(status.stdout)).toMatchObject({ version: INSTALLED, driver: 'compose' })
    expect(readFileSync(stack.owlat, 'utf8')).toContain(`label=${PROJECT_LABEL}=${stack.project}`)
  }, TEST_TIMEOUT_MS)

  it('install.sh refuses to write a .env without the release key, with one line that says so', async () => {
    const dir = join(stack.root, 'no-key')
    const result = await execa('bash', [join(ROOT, 'deploy/install.sh')], {
      env: { PATH: process.env.PATH!, OWLAT_DIR: dir, OWLAT_BIN_DIR: join(stack.root, 'no-key-bin') },
      reject: false,
    })
    expect(result.exitCode).toBe(1)
    expect(result.stderr).toBe('install: set OWLAT_RELEASE_PUBLIC_KEY to the release signing key (PEM, or its base64) for the new .env')
    expect(readdirSync(dir)).toEqual([])
  }, TEST_TIMEOUT_MS)

  it('install.sh run a second time changes nothing', async () => {
    const snapshot = async () => ({
      containers: Object.fromEntries(Object.entries(await containersByService(docker, stack.project)).map(([s, c]) => [s, c.id])),
      env: readFileSync(join(stack.dir, '.env'), 'utf8'),
      envMode: statSync(join(stack.dir, '.env')).mode,
      compose: readFileSync(join(stack.dir, 'docker-compose.yml'), 'utf8'),
      wrapper: readFileSync(stack.owlat, 'utf8'),
      deployments: await functionDeployments(),
    })
    const before = await snapshot()
    const output = await runInstaller(stack)
    expect(output).toContain(`keeping ${join(stack.dir, '.env')}`)
    expect(output).toContain(`keeping ${stack.owlat}`)
    expect(await snapshot()).toEqual(before)
  }, TEST_TIMEOUT_MS)

  it(`updates ${INSTALLED} → ${TARGET} through the web; the updater recreates the web and then itself`, async () => {
    await api.signIn(ADMIN)
    const check = await api.request('POST', '/api/system/releases/check')
    expect(check.status).toBe(200)
    const before = await containersByService(docker, stack.project)
    const override = readFileSync(join(stack.dir, 'docker-compose.override.yml'), 'utf8')

    const done = await run('/api/system/updates', { targetVersion: TARGET })

    expect(done.status, JSON.stringify(done.steps.filter(s => s.error))).toBe('succeeded')
    expect(done.steps.map(s => [s.name, s.status])).toEqual([
      ['preflight', 'succeeded'], ['backup', 'succeeded'], ['stage', 'succeeded'], ['pull', 'succeeded'],
      ['deploy-functions', 'succeeded'], ['promote', 'succeeded'], ['recreate', 'succeeded'], ['verify', 'succeeded'],
      ['watch', 'succeeded'], ['commit', 'succeeded'],
    ])
    // The web container was recreated from the new image, on the same published port, and answers the new version.
    const after = await containersByService(docker, stack.project)
    expect(after.web!.id).not.toBe(before.web!.id)
    expect(after.web!.image).toMatch(/owlat-prod\/web:1\.3\.0@sha256:/)
    expect(await api.version()).toBe(TARGET)
    // What the update did not touch kept running as it was.
    for (const service of ['convex', 'redis', 'docker-socket-proxy']) expect(after[service]!.id).toBe(before[service]!.id)
    expect(await functionDeployments()).toEqual([`owlat ${INSTALLED}`, `owlat ${TARGET}`])
    expect(readFileSync(join(stack.dir, 'docker-compose.prev.yml'), 'utf8')).toBe(readFileSync(join(releases.dir, artifactNames(INSTALLED).compose), 'utf8'))
    expect(readFileSync(join(stack.dir, 'docker-compose.override.yml'), 'utf8')).toBe(override)
    // The updater's own journal is never part of a backup: it records the job being backed up.
    expect(done.steps.find(s => s.name === 'backup')!.log).toContain(`not backing up ${stack.project}_updater-data: the updater's own data`)

    // After the commit the helper moved the updater to the image the new file pins.
    await waitForUpdater(TARGET)
    const helpers = await docker.listContainers({ all: true, filters: { label: [`${HELPER_LABEL}=self-update`] } })
    const helper = helpers.find(h => h.Labels['io.owlat.updater.to']?.startsWith(prodImage('updater', TARGET)))
    expect(helper, 'the self-update helper container').toBeDefined()
    expect((await docker.getContainer(helper!.Id).inspect()).State.ExitCode).toBe(0)
    // The new updater reads the job from the journal its predecessor wrote: succeeded.
    const job = (await updaterJobs()).find(j => j.id === done.jobId)
    expect(job).toMatchObject({ status: 'succeeded', fromVersion: INSTALLED, toVersion: TARGET })
    expect((await execa(stack.owlat, ['--version'])).stdout.trim()).toBe(TARGET)
  }, TEST_TIMEOUT_MS)

  it(`restores ${TARGET} by itself when ${BROKEN}'s web never comes up`, async () => {
    await api.signIn(ADMIN)
    const done = await run('/api/system/updates', { targetVersion: BROKEN })

    expect(done.status).toBe('rolled_back')
    expect(done.reason).toMatch(new RegExp(`^verify failed: .*web.*; restored ${TARGET.replace(/\./g, '\\.')}$`))
    expect(done.steps.filter(s => ['restore', 'verify-restore'].includes(s.name)).map(s => s.status)).toEqual(['succeeded', 'succeeded'])
    expect(await api.version()).toBe(TARGET)
    const web = (await containersByService(docker, stack.project)).web!
    expect(web).toMatchObject({ running: true, health: 'healthy' })
    expect(web.image).toMatch(/owlat-prod\/web:1\.3\.0@sha256:/)
    expect(readFileSync(join(stack.dir, 'docker-compose.yml'), 'utf8')).toBe(readFileSync(join(releases.dir, artifactNames(TARGET).compose), 'utf8'))
    // Nothing committed, so the updater stays where it is.
    expect((await containersByService(docker, stack.project)).updater!.image).toMatch(/owlat-prod\/updater:1\.3\.0@sha256:/)
  }, TEST_TIMEOUT_MS)

  it(`rolls back to ${INSTALLED}, and the updater follows`, async () => {
    await api.signIn(ADMIN)
    // restoreBackup: false — restoring the web's store volume would also put back its run history
    // as it was before the update being undone (the run would then only be found again by its job).
    const done = await run('/api/system/rollbacks', { targetVersion: INSTALLED, restoreBackup: false })

    expect(done).toMatchObject({ kind: 'rollback', status: 'succeeded', fromVersion: TARGET, toVersion: INSTALLED })
    expect(await api.version()).toBe(INSTALLED)
    expect((await containersByService(docker, stack.project)).web!.image).toMatch(/owlat-prod\/web:1\.2\.2@sha256:/)
    await waitForUpdater(INSTALLED)
    expect((await updaterJobs()).find(j => j.id === done.jobId)).toMatchObject({ kind: 'rollback', status: 'succeeded' })
  }, TEST_TIMEOUT_MS)
})
