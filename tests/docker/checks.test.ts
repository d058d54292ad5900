/**
 * The stack checks (shared/node/checks) against the real engine and compose CLI: what compose
 * renders is what they judge; the compose driver's preflight refuses an update whose release
 * fails a blocking one before anything changes; verify honours a healthcheck's start_period; and
 * deploy-functions runs every one-shot the release marks, in order.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type Docker from 'dockerode'
import { execa } from 'execa'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { parse, stringify } from 'yaml'
import { modelChecks, parseStackModel } from '../../shared/node/checks'
import { checkPorts, findTakenPorts } from '../../shared/node/checks/host'
import { SESSION_PASSWORD_FILE } from '../../scripts/bootstrap'
import { planSchema } from '../../shared/schemas/api'
import type { Job } from '../../shared/schemas/job'
import { execIn } from '../../sidecar/drivers/docker-engine'
import { startSidecar, type SidecarHandle } from '../../sidecar/index'
import { cleanEnv, createUserViaScript, ensureWebBuild, ROOT, waitFor } from '../server/stack'
import { freePort } from '../setup/ports'
import { instanceSecret, jobRequest, SidecarClient } from '../sidecar/helpers'
import { buildVersion, storeImage } from './images'
import { containersByService, downStack, makeStack, requireDocker, SKIP_DOCKER, stackCompose, stackConfig, type TestStack } from './stack'

const INSTALLED = '1.0.0'
const GOOD = '1.1.0'
const step = (job: Job, name: string) => job.steps.find(s => s.name === name)!

type Services = Record<string, Record<string, unknown>>
/** stackCompose(version) with its services changed by `patch`. */
function patched(version: string, patch: (services: Services) => void): string {
  const doc = parse(stackCompose(version)) as { services: Services }
  patch(doc.services)
  return stringify(doc)
}

/** What `docker-compose config` renders from `text`, in a folder of its own. */
async function rendered(text: string): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'owlat-render-'))
  try {
    writeFileSync(join(dir, 'docker-compose.yml'), text)
    return (await execa('docker-compose', ['-f', join(dir, 'docker-compose.yml'), 'config'], { cwd: dir })).stdout
  }
  finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

describe.skipIf(SKIP_DOCKER)('stack checks on a real engine', () => {
  let docker: Docker
  let stack: TestStack | null = null
  let sidecar: SidecarHandle | null = null
  const savedEnv = { ...process.env }

  beforeAll(async () => {
    docker = await requireDocker()
    for (const version of [INSTALLED, GOOD]) await buildVersion(version)
  })

  afterEach(async () => {
    await sidecar?.close()
    sidecar = null
    if (stack) {
      await downStack(stack)
      rmSync(stack.dir, { recursive: true, force: true })
    }
    stack = null
    process.env = { ...savedEnv }
  })

  afterAll(() => {
    process.env = savedEnv
  })

  async function startStack(env: Record<string, string> = {}): Promise<{ client: SidecarClient, stack: TestStack }> {
    const s = makeStack(INSTALLED)
    stack = s
    Object.assign(s.env, env)
    Object.assign(process.env, s.env)
    sidecar = await startSidecar(stackConfig(s), { log: () => {} })
    return { client: new SidecarClient(sidecar.url, instanceSecret(s.dataDir)), stack: s }
  }

  async function submit(client: SidecarClient, s: TestStack, version: string, compose: string): Promise<Job> {
    const accepted = await client.request('POST', '/v1/jobs', jobRequest(s.dataDir, version, {}, s.release(version, compose)))
    expect(accepted.status).toBe(202)
    return client.waitForJob((accepted.body as { jobId: string }).jobId, undefined, 180_000)
  }

  it('judges the volumes compose renders: no data volume and a mount over /convex fail, a named volume passes', async () => {
    const base = { image: storeImage(GOOD), environment: { INSTANCE_SECRET: 'a3f1c9e07b5d2486f0e1d3c5b7a9e2f4c6d8b0a1e3f5c7d9b2a4c6e8f0a1b3c5' } }
    const judge = async (convex: Record<string, unknown>) => Object.fromEntries(
      modelChecks(parseStackModel(await rendered(stringify({ services: { convex: { ...base, ...convex } }, volumes: { 'convex-data': {} } }))), {}).map(c => [c.id, c]),
    )
    const none = await judge({})
    expect(none['convex-data-volume']).toMatchObject({ status: 'fail', blocking: true })
    const over = await judge({ volumes: ['convex-data:/convex/data', './convex:/convex:ro'] })
    expect(over['convex-mount']).toMatchObject({ status: 'fail', blocking: true })
    const good = await judge({ volumes: ['convex-data:/convex/data'] })
    expect(good['convex-data-volume']!.status).toBe('ok')
    expect(good['convex-mount']!.status).toBe('ok')
  })

  it('finds a published port held by a container outside the stack, and passes a free one', async () => {
    const port = await freePort()
    // buildVersion leaves images only in the registry.
    await execa('docker', ['pull', storeImage(GOOD)])
    const other = await docker.createContainer({
      Image: storeImage(GOOD),
      name: `owlat-checks-port-${port}`,
      ExposedPorts: { '3000/tcp': {} },
      HostConfig: { PortBindings: { '3000/tcp': [{ HostIp: '127.0.0.1', HostPort: String(port) }] } },
    })
    await other.start()
    try {
      const model = parseStackModel(await rendered(stringify({ services: { web: { image: storeImage(GOOD), ports: [`127.0.0.1:${port}:3000`] } } })))
      const taken = checkPorts(model, await findTakenPorts(model, 'owlat-checks-nothing', docker))
      expect(taken).toMatchObject({ status: 'fail', blocking: true })
      expect(taken.message).toContain(`held by container owlat-checks-port-${port}`)
      // The same port is the stack's own when its project's container publishes it.
      const own = await docker.getContainer(other.id).inspect()
      expect(own.State.Running).toBe(true)
      const free = parseStackModel(await rendered(stringify({ services: { web: { image: storeImage(GOOD), ports: [`127.0.0.1:${await freePort()}:3000`] } } })))
      expect(checkPorts(free, await findTakenPorts(free, 'owlat-checks-nothing', docker)).status).toBe('ok')
    }
    finally {
      await other.remove({ force: true })
    }
  })

  it('refuses an update of a stack whose Convex stand-in has no data volume, and nothing changes', async () => {
    const { client, stack: s } = await startStack({ OWLAT_CONVEX_SERVICE: 'store' })
    const before = await containersByService(docker, s.project)
    const installed = readFileSync(join(s.dir, 'docker-compose.yml'), 'utf8')

    const job = await submit(client, s, GOOD, stackCompose(GOOD))

    expect(job.status).toBe('failed')
    expect(step(job, 'preflight').status).toBe('failed')
    expect(step(job, 'preflight').error).toContain('convex-data-volume: store: /convex/data is on no volume')
    expect(step(job, 'preflight').log.some(l => l.startsWith('check ✖ fail convex-data-volume'))).toBe(true)
    expect(job.steps.filter(st => st.name !== 'preflight').every(st => st.status === 'pending' || st.status === 'skipped')).toBe(true)
    const after = await containersByService(docker, s.project)
    expect(Object.fromEntries(Object.entries(after).map(([k, c]) => [k, c.id]))).toEqual(Object.fromEntries(Object.entries(before).map(([k, c]) => [k, c.id])))
    expect(readFileSync(join(s.dir, 'docker-compose.yml'), 'utf8')).toBe(installed)
    expect(existsSync(join(s.dir, 'docker-compose.next.yml'))).toBe(false)
    expect(existsSync(join(s.dir, 'backups')) ? readdirSync(join(s.dir, 'backups')) : []).toEqual([])
  })

  it('the web\'s plan refuses that update too, no override lets it through, and nothing changes', async () => {
    const { client, stack: s } = await startStack({ OWLAT_CONVEX_SERVICE: 'store' })
    const before = await containersByService(docker, s.project)
    const installed = readFileSync(join(s.dir, 'docker-compose.yml'), 'utf8')
    const releaseDir = s.release(GOOD, stackCompose(GOOD))
    const admin = { email: 'admin@example.com', password: 'admin-password-1' }
    expect(createUserViaScript(s.dataDir, ['--email', admin.email, '--password', admin.password, '--role', 'platform-admin']).status).toBe(0)

    // The real web, asking this updater (compose driver, real engine) for its plan.
    ensureWebBuild()
    const port = await freePort()
    const web = `http://127.0.0.1:${port}`
    const child = execa(process.execPath, [join(ROOT, '.output/server/index.mjs')], {
      env: { ...cleanEnv(), PORT: String(port), OWLAT_DATA_DIR: s.dataDir, OWLAT_RELEASE_DIR: releaseDir, OWLAT_UPDATER_URL: sidecar!.url, OWLAT_VERSION: INSTALLED, OWLAT_ALLOWED_IMAGE_PREFIXES: s.env.OWLAT_ALLOWED_IMAGE_PREFIXES!, NUXT_SESSION_PASSWORD: readFileSync(join(s.dataDir, SESSION_PASSWORD_FILE), 'utf8').trim() },
      extendEnv: false,
      reject: false,
      all: true,
    })
    let output = ''
    child.all?.on('data', (d: Buffer) => (output += d.toString()))
    try {
      await waitFor('the web to answer', async () => (await fetch(`${web}/api/healthz`).catch(() => null))?.status === 200 || undefined, 60_000)
      const login = await fetch(`${web}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(admin) })
      expect(login.status, output).toBe(200)
      const cookie = login.headers.getSetCookie().map(c => c.split(';')[0]).join('; ')
      const headers = { cookie, 'accept': 'application/json', 'content-type': 'application/json' }

      const answer = await (await fetch(`${web}/api/system/plan?targetVersion=${GOOD}`, { headers })).json() as unknown
      const plan = planSchema.parse(answer, { error: () => JSON.stringify(answer) })
      const volume = plan.checks.find(c => c.id === 'convex-data-volume')
      expect(volume, JSON.stringify(plan.checks)).toMatchObject({ status: 'fail', ignorable: false, message: 'store: /convex/data is on no volume, so recreating it wipes the database, instance secret and admin keys' })
      // The other stack checks are there too, judged on what compose renders.
      expect(plan.checks.map(c => c.id)).toEqual(expect.arrayContaining(['services', 'release-verifies', 'convex-mount', 'log-rotation', 'disk']))

      const refused = await fetch(`${web}/api/system/updates`, { method: 'POST', headers, body: JSON.stringify({ targetVersion: GOOD, ignoreChecks: true, reason: 'We back up by hand.' }) })
      expect(refused.status).toBe(409)
      expect(((await refused.json()) as { message: string }).message).toMatch(/^Checks that cannot be ignored fail: .*convex-data-volume: store: \/convex\/data is on no volume/)
    }
    finally {
      child.kill('SIGTERM')
      await child
    }
    // Nothing reached the updater, nothing changed.
    expect((await client.request('GET', '/v1/jobs?limit=10')).body).toEqual({ jobs: [] })
    const after = await containersByService(docker, s.project)
    expect(Object.fromEntries(Object.entries(after).map(([k, c]) => [k, c.id]))).toEqual(Object.fromEntries(Object.entries(before).map(([k, c]) => [k, c.id])))
    expect(readFileSync(join(s.dir, 'docker-compose.yml'), 'utf8')).toBe(installed)
    expect(readdirSync(s.dir).filter(f => f.startsWith('.docker-compose.check'))).toEqual([])
  })

  it('updates once the data is on a volume, runs every marked deploy one-shot in order, and waits out a start_period longer than the verify timeout', async () => {
    const { client, stack: s } = await startStack({ OWLAT_CONVEX_SERVICE: 'store', OWLAT_VERIFY_TIMEOUT_MS: '20000' })
    const target = patched(GOOD, (services) => {
      const store = services.store!
      store.volumes = ['data:/data', 'data:/convex/data']
      // Healthy 40 s after it starts; inside its 60 s start period the engine keeps it "starting".
      store.command = ['sh', '-c', 'sleep 40; echo ok > /tmp/ready; exec sleep 1000000']
      store.healthcheck = { test: ['CMD', 'test', '-f', '/tmp/ready'], interval: '1s', timeout: '2s', retries: 2, start_period: '60s' }
      const deploy = services['convex-deploy']!
      const oneShot = (order: string, name: string, profiles = ['deploy']) => ({
        ...deploy,
        profiles,
        labels: { 'io.owlat.deploy-functions': order },
        command: ['sh', '-c', `echo ${name} >> /data/deploy-order`],
      })
      services['convex-deploy'] = oneShot('10', 'convex-deploy')
      services['nest-api-deploy'] = oneShot('20', 'nest-api-deploy')
      services['hosted-deploy'] = oneShot('15', 'hosted-deploy', ['hosted', 'deploy'])
    })

    const job = await submit(client, s, GOOD, target)

    expect(job.status, JSON.stringify(job.steps.filter(st => st.error))).toBe('succeeded')
    expect(step(job, 'preflight').log.some(l => l.startsWith('check ✔ ok   convex-data-volume') && l.includes('named volume data'))).toBe(true)
    const deployLog = step(job, 'deploy-functions').log
    expect(deployLog).toContain('not running hosted-deploy: it needs the profile(s) hosted, not active here (COMPOSE_PROFILES)')
    expect(deployLog).toContain('running convex-deploy, then nest-api-deploy')
    const store = (await containersByService(docker, s.project)).store!
    expect((await execIn(docker, store.id, ['cat', '/data/deploy-order'])).stdout).toBe('convex-deploy\nnest-api-deploy\n')
    const verify = step(job, 'verify')
    expect(verify.log).toContain('extending the verify timeout from 20 s (OWLAT_VERIFY_TIMEOUT_MS) to 60 s: store\'s healthcheck start_period')
    // It did wait: the store turned healthy some 40 s after recreate, past the configured 20 s.
    expect(verify.endedAt! - verify.startedAt!).toBeGreaterThan(20_000)
  }, 240_000)
})
