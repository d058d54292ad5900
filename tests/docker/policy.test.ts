/**
 * The compose policy on the production file in deploy/, on what the real compose CLI renders from
 * the attacks that once got past it and from Owlat's own stack, and the compose driver's
 * preflight refusing a target file for each forbidden construct (the policy's own rules are
 * unit-tested in tests/unit/shared/compose-policy.test.ts). Preflight first asks the engine, so
 * this runs with it.
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parse, stringify } from 'yaml'
import { checkComposePolicy, composePolicyOptionsFromEnv } from '../../shared/compose-policy'
import { loadConfig } from '../../shared/config'
import { ComposeDriver } from '../../sidecar/drivers/compose'
import { ComposeCli, detectCompose } from '../../sidecar/drivers/compose-cli'
import { renderComposeConfig } from '../../sidecar/drivers/compose-config'
import type { StepContext } from '../../sidecar/drivers/types'
import { makeDataDir } from '../sidecar/helpers'
import { REGISTRY } from './images'
import { requireDocker, SKIP_DOCKER, stackCompose } from './stack'

const DEPLOY_FILE = fileURLToPath(new URL('../../deploy/docker-compose.yml', import.meta.url))
const OWLAT_STACK_DIR = fileURLToPath(new URL('../fixtures/owlat-stack/', import.meta.url))
const PRODUCTION_DIR = '/opt/owlat'

type Service = Record<string, unknown>

/** Each construct the policy forbids, applied to the web service. */
const FORBIDDEN: Array<{ name: string, apply: (web: Service, doc: Record<string, unknown>) => void, violation: RegExp }> = [
  { name: 'privileged mode', apply: (web) => { web.privileged = true }, violation: /service web: privileged mode/ },
  { name: 'the Docker socket outside the socket proxy', apply: (web) => { web.volumes = ['/var/run/docker.sock:/var/run/docker.sock'] }, violation: /service web: bind mount mounts the Docker socket/ },
  { name: 'a host path outside the project folder', apply: (web) => { web.volumes = ['/etc:/host-etc:ro'] }, violation: /service web: bind mount "\/etc" mounts host path \/etc, outside the allowed folders/ },
  { name: 'a capability outside the allowlist', apply: (web) => { web.cap_add = ['SYS_ADMIN'] }, violation: /service web: cap_add SYS_ADMIN is not allowed/ },
  { name: 'host devices', apply: (web) => { web.devices = ['/dev/sda:/dev/sda'] }, violation: /service web: devices give the container direct access/ },
  { name: 'the host network', apply: (web) => { web.network_mode = 'host' }, violation: /service web: network_mode: host shares the host's namespace/ },
  { name: 'the host pid namespace', apply: (web) => { web.pid = 'host' }, violation: /service web: pid: host shares the host's namespace/ },
  { name: 'an unconfined seccomp profile', apply: (web) => { web.security_opt = ['seccomp:unconfined'] }, violation: /service web: security_opt seccomp:unconfined disables the seccomp syscall filter/ },
  { name: 'an image from another registry', apply: (web) => { web.image = 'docker.io/evil/web:1.2.2' }, violation: /service web: image "docker.io\/evil\/web:1.2.2" is not from an allowed registry/ },
  { name: 'a locally built image', apply: (web) => { web.build = '.' }, violation: /service web: builds an image locally/ },
  { name: 'an included file', apply: (_web, doc) => { doc.include = ['other.yml'] }, violation: /include pulls in other files/ },
]

function withConstruct(text: string, apply: (web: Service, doc: Record<string, unknown>) => void): string {
  const doc = parse(text) as { services: Record<string, Service> }
  apply(doc.services.web!, doc as unknown as Record<string, unknown>)
  return stringify(doc)
}

describe.skipIf(SKIP_DOCKER)('the production compose file', () => {
  const production = readFileSync(DEPLOY_FILE, 'utf8')

  it('passes the policy with the production defaults', () => {
    expect(checkComposePolicy(production, composePolicyOptionsFromEnv({}, PRODUCTION_DIR))).toEqual({ ok: true, violations: [] })
  })

  it('has what the updater relies on', () => {
    const doc = parse(production) as { name?: string, services: Record<string, Service>, volumes: Record<string, unknown> }
    expect(doc.name).toBeUndefined()
    expect(Object.keys(doc.services).sort()).toEqual(['convex', 'convex-deploy', 'docker-socket-proxy', 'redis', 'updater', 'web'])
    // Host ports come from .env (OWLAT_HTTP_PORT, OWLAT_CONVEX_PORT…): an override could only add ports, never replace them.
    expect(doc.services.convex).toMatchObject({ ports: ['${OWLAT_CONVEX_PORT:-3210}:3210', '${OWLAT_CONVEX_SITE_PORT:-3211}:3211'], volumes: ['convex-data:/convex/data'] })
    expect(doc.services.web).toMatchObject({ ports: ['${OWLAT_HTTP_PORT:-3000}:3000'], volumes: ['web-data:/data'] })
    expect(doc.services['convex-deploy']!.profiles).toEqual(['deploy'])
    expect(doc.services.redis!.command).toEqual(expect.arrayContaining(['--appendonly', 'yes']))
    // The project folder at its host path (OWLAT_DIR in .env), which compose hands to the engine for relative binds.
    expect(doc.services.updater!.volumes).toEqual(['updater-data:/data', '.:${OWLAT_DIR:-/opt/owlat}'])
    expect((doc.services.updater!.environment as Record<string, string>).OWLAT_DIR).toBe('${OWLAT_DIR:-/opt/owlat}')
    expect((doc.services.updater!.environment as Record<string, string>).DOCKER_HOST).toBe('tcp://docker-socket-proxy:2375')
    expect(Object.keys(doc.volumes).sort()).toEqual(['convex-data', 'redis-data', 'updater-data', 'web-data'])
  })

  it.each(FORBIDDEN)('is refused with $name', ({ apply, violation }) => {
    const result = checkComposePolicy(withConstruct(production, apply), composePolicyOptionsFromEnv({}, PRODUCTION_DIR))
    expect(result.ok).toBe(false)
    expect(result.violations.join('\n')).toMatch(violation)
  })
})

/** Attacks that passed the policy on the text while compose ran something else. */
const PROXY = { image: 'tecnativa/docker-socket-proxy:0.3', volumes: ['/var/run/docker.sock:/var/run/docker.sock:ro'] }
const ATTACKS: Array<{ name: string, web: Service, rendered: (web: Service) => void, violation: RegExp }> = [
  {
    name: 'volumes_from the socket proxy',
    web: { volumes_from: ['docker-socket-proxy'] },
    rendered: web => expect(web.volumes_from).toEqual(['service:docker-socket-proxy:rw']),
    violation: /service web: volumes_from docker-socket-proxy: bind mount mounts the Docker socket \/var\/run\/docker\.sock/,
  },
  {
    name: 'extends the socket proxy in the same file',
    web: { extends: { service: 'docker-socket-proxy' } },
    rendered: web => expect(web.volumes).toEqual(['/var/run/docker.sock:/var/run/docker.sock:ro']),
    violation: /service web: bind mount mounts the Docker socket \/var\/run\/docker\.sock/,
  },
  {
    name: 'network_mode: ${X:-host}',
    web: { network_mode: '${X:-host}' },
    rendered: web => expect(web.network_mode).toBe('host'),
    violation: /service web: network_mode: host shares the host's namespace/,
  },
  {
    name: 'pid: ${X:-host}',
    web: { pid: '${X:-host}' },
    rendered: web => expect(web.pid).toBe('host'),
    violation: /service web: pid: host shares the host's namespace/,
  },
  {
    name: 'security_opt: [${X:-seccomp=unconfined}]',
    web: { security_opt: ['${X:-seccomp=unconfined}'] },
    rendered: web => expect(web.security_opt).toEqual(['seccomp=unconfined']),
    violation: /service web: security_opt seccomp=unconfined disables the seccomp syscall filter/,
  },
]

describe.skipIf(SKIP_DOCKER)('what compose renders', () => {
  let cli: ComposeCli
  const dirs: string[] = []

  beforeAll(async () => {
    cli = new ComposeCli({ command: await detectCompose(process.env.OWLAT_COMPOSE_CMD), project: 'owlatpolicyrender', projectDir: tmpdir(), pidFile: join(tmpdir(), 'owlat-policy-render.pid') })
  })

  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
  })

  /** `compose config` of `text` in a folder of its own (with `env` as its `.env`), as the driver runs it. */
  async function render(text: string, env?: string): Promise<string> {
    const dir = mkdtempSync(join(tmpdir(), 'owlatrender'))
    dirs.push(dir)
    writeFileSync(join(dir, 'docker-compose.yml'), text)
    if (env !== undefined) writeFileSync(join(dir, '.env'), env)
    const scoped = new ComposeCli({ command: cli.command, project: 'owlatpolicyrender', projectDir: dir, pidFile: join(dir, 'compose.pid') })
    return renderComposeConfig(scoped, join(dir, 'docker-compose.yml'))
  }

  it.each(ATTACKS)('refuses $name, which compose renders as a socket mount or a host namespace', async ({ web, rendered, violation }) => {
    const text = stringify({ services: { 'docker-socket-proxy': PROXY, 'web': { image: 'ghcr.io/owlat/web:1.3.0', ...web } } })
    const output = await render(text)
    // The attack is real: this is what `up` would run.
    rendered((parse(output) as { services: Record<string, Service> }).services.web!)
    const options = { projectDir: '/opt/owlat' }
    const onText = checkComposePolicy(text, options)
    expect(onText.ok).toBe(false)
    const onRendering = checkComposePolicy(output, options)
    expect(onRendering.ok).toBe(false)
    expect(onRendering.violations.join('\n')).toMatch(violation)
  })

  it('accepts Owlat\'s own stack as compose renders it with its .env: every service, profiles, cap_drop ALL plus adds, the socket proxy', async () => {
    const text = readFileSync(join(OWLAT_STACK_DIR, 'docker-compose.yml'), 'utf8')
    const dir = mkdtempSync(join(tmpdir(), 'owlatstack'))
    dirs.push(dir)
    copyFileSync(join(OWLAT_STACK_DIR, 'stack.env'), join(dir, '.env'))
    writeFileSync(join(dir, 'docker-compose.yml'), text)
    const scoped = new ComposeCli({ command: cli.command, project: 'owlatstack', projectDir: dir, pidFile: join(dir, 'compose.pid') })
    const output = await renderComposeConfig(scoped, join(dir, 'docker-compose.yml'))
    const services = (parse(output) as { services: Record<string, Service> }).services
    expect(Object.keys(services).sort()).toEqual(['clamav', 'convex', 'convex-dashboard', 'convex-deploy', 'docker-socket-proxy', 'mta', 'nest-api-deploy', 'redis', 'updater', 'web'])
    expect(services.clamav!.cap_add).toEqual(['CHOWN', 'SETUID', 'SETGID', 'DAC_OVERRIDE', 'FOWNER'])
    expect(checkComposePolicy(text, { projectDir: dir })).toEqual({ ok: true, violations: [] })
    expect(checkComposePolicy(output, { projectDir: dir })).toEqual({ ok: true, violations: [] })
  })
})

describe.skipIf(SKIP_DOCKER)('compose driver preflight', () => {
  let dir: string
  let driver: ComposeDriver
  const env = { OWLAT_ALLOWED_IMAGE_PREFIXES: `${REGISTRY}/owlat/`, OWLAT_WEB_VERSION_CHECK: 'exec' }

  beforeAll(async () => {
    await requireDocker()
    dir = mkdtempSync(join(tmpdir(), 'owlatpolicy'))
    writeFileSync(join(dir, 'docker-compose.yml'), stackCompose('1.0.0'))
    const config = loadConfig({ OWLAT_DATA_DIR: makeDataDir(), OWLAT_DRIVER: 'compose', OWLAT_DIR: dir })
    driver = new ComposeDriver(config, { log: () => {}, env })
  })

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  function context(compose: string): StepContext & { lines: string[] } {
    const lines: string[] = []
    return {
      jobId: 'job-policy',
      kind: 'update',
      fromVersion: '1.0.0',
      toVersion: '1.1.0',
      hop: 0,
      compose,
      force: true,
      backup: true,
      restoreBackupJobId: null,
      restoreArchive: null,
      recordBackup: () => {},
      signal: new AbortController().signal,
      lines,
      log: line => lines.push(line),
      skip: line => lines.push(line),
    }
  }

  it.each(FORBIDDEN)('refuses a target file with $name', async ({ apply, violation }) => {
    const ctx = context(withConstruct(stackCompose('1.1.0'), apply))
    const refusal = driver.preflight(ctx)
    await expect(refusal).rejects.toThrow(/^compose file violates the compose policy: /)
    await expect(refusal).rejects.toThrow(violation)
    expect(ctx.lines.some(line => line.includes('passes the compose policy'))).toBe(false)
  })

  it.each(ATTACKS)('refuses a target file with $name', async ({ web }) => {
    const doc = parse(stackCompose('1.1.0')) as { services: Record<string, Service> }
    doc.services['docker-socket-proxy'] = { ...PROXY, image: doc.services.store!.image, network_mode: 'none' }
    Object.assign(doc.services.web!, web)
    const ctx = context(stringify(doc))
    await expect(driver.preflight(ctx)).rejects.toThrow(/^compose file violates the compose policy: /)
    expect(ctx.lines.some(line => line.includes('passes the compose policy'))).toBe(false)
  })

  it('accepts the same target file without them', async () => {
    const ctx = context(stackCompose('1.1.0'))
    await driver.preflight(ctx)
    expect(ctx.lines).toContain('the target compose file passes the compose policy')
    expect(ctx.lines).toContain('what compose renders from it passes the compose policy too')
    expect(ctx.lines).toContain('force: skipping the health check of the running stack')
  })
})
