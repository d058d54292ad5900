import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { parse, stringify } from 'yaml'
import {
  checkComposePolicy, composePolicyOptionsFromEnv, DEFAULT_ALLOWED_BIND_PREFIXES, DEFAULT_ALLOWED_CAPABILITIES, DEFAULT_ALLOWED_IMAGE_PREFIXES,
  imageRepository, type ComposePolicyOptions,
} from '../../../shared/compose-policy'

/** Owlat's own stack as a release renders it (tests/fixtures/owlat-stack). */
const OWLAT_STACK = readFileSync(fileURLToPath(new URL('../../fixtures/owlat-stack/docker-compose.yml', import.meta.url)), 'utf8')

const PROJECT = '/opt/owlat'
const options: ComposePolicyOptions = { projectDir: PROJECT }
const DIGEST = `sha256:${'a'.repeat(64)}`

/** A production-shaped stack that passes the default policy. */
const cleanStack = {
  name: 'owlat',
  services: {
    'web': { image: `ghcr.io/owlat/web:1.3.0@${DIGEST}`, restart: 'unless-stopped' },
    'convex': {
      image: `ghcr.io/get-convex/convex-backend:1.3.0@${DIGEST}`,
      volumes: ['convex-data:/convex/data'],
    },
    'mta': { image: 'ghcr.io/owlat/mta:1.3.0', cap_add: ['NET_BIND_SERVICE'], security_opt: ['no-new-privileges:true'] },
    'redis': { image: 'redis:7-alpine', volumes: ['./data/redis:/data'] },
    'clamav': { image: 'clamav/clamav:1.4' },
    'updater': {
      image: 'ghcr.io/owlat/updater:1.3.0',
      volumes: [{ type: 'bind', source: '/opt/owlat', target: '/opt/owlat' }, 'tmp:/tmp', '/cache'],
      environment: { DOCKER_HOST: 'tcp://docker-socket-proxy:2375' },
    },
    'docker-socket-proxy': {
      image: 'tecnativa/docker-socket-proxy:0.3',
      volumes: ['/var/run/docker.sock:/var/run/docker.sock:ro'],
    },
  },
  volumes: { 'convex-data': {}, 'tmp': { driver: 'local' } },
}

function withService(service: Record<string, unknown>, name = 'web'): string {
  return stringify({ services: { [name]: { image: 'ghcr.io/owlat/web:1.3.0', ...service } } })
}

function check(text: string, opts: ComposePolicyOptions = options) {
  return checkComposePolicy(text, opts)
}

describe('checkComposePolicy', () => {
  it('passes a clean production stack', () => {
    expect(check(stringify(cleanStack))).toEqual({ ok: true, violations: [] })
  })

  describe('images', () => {
    it('refuses an image from another registry, naming the service', () => {
      const result = check(withService({ image: 'docker.io/evil/web:1.3.0' }))
      expect(result.ok).toBe(false)
      expect(result.violations).toEqual([expect.stringMatching(/^service web: image "docker\.io\/evil\/web:1\.3\.0" is not from an allowed registry/)])
    })

    it('does not let a namespace prefix match a longer namespace name', () => {
      expect(check(withService({ image: 'ghcr.io/owlatx/web:1.3.0' })).ok).toBe(false)
    })

    it('matches a single-repository entry exactly, with any tag or digest', () => {
      expect(check(withService({ image: 'redis' })).ok).toBe(true)
      expect(check(withService({ image: `docker.io/library/redis@${DIGEST}` })).ok).toBe(true)
      expect(check(withService({ image: 'redis-evil:7' })).ok).toBe(false)
    })

    it('refuses interpolated, malformed, missing and locally built images', () => {
      expect(check(withService({ image: '${REGISTRY}/web:1' })).violations[0]).toMatch(/variable interpolation/)
      expect(check(withService({ image: 'GHCR.io/Owlat/Web' })).violations[0]).toMatch(/not a valid image reference/)
      expect(check(stringify({ services: { web: { restart: 'always' } } })).violations).toEqual(['service web: has no image'])
      expect(check(stringify({ services: { web: { build: '.' } } })).violations[0]).toMatch(/^service web: builds an image locally/)
    })

    it('honours configured prefixes instead of the defaults', () => {
      const text = withService({ image: 'registry.example.com/mirror/web:1.3.0' })
      expect(check(text).ok).toBe(false)
      expect(check(text, { ...options, allowedImagePrefixes: ['registry.example.com/mirror/'] }).ok).toBe(true)
    })

    it('normalises repositories the way the engine does', () => {
      expect(imageRepository('redis:7')).toBe('docker.io/library/redis')
      expect(imageRepository('clamav/clamav')).toBe('docker.io/clamav/clamav')
      expect(imageRepository(`ghcr.io/owlat/web:1.3.0@${DIGEST}`)).toBe('ghcr.io/owlat/web')
      expect(imageRepository('localhost:5000/web:1')).toBe('localhost:5000/web')
    })
  })

  it('refuses privileged: true', () => {
    expect(check(withService({ privileged: true })).violations).toEqual([expect.stringMatching(/^service web: privileged mode/)])
    expect(check(withService({ privileged: false })).ok).toBe(true)
  })

  describe('capabilities', () => {
    it('accepts every capability of Docker\'s default set, in any case, with or without CAP_', () => {
      expect(check(withService({ cap_drop: ['ALL'], cap_add: [...DEFAULT_ALLOWED_CAPABILITIES] })).ok).toBe(true)
      expect(check(withService({ cap_add: ['chown', 'CAP_SETUID', 'cap_dac_override', 'Fowner', ' NET_BIND_SERVICE '] })).ok).toBe(true)
      expect(check(withService({ cap_add: 'NET_RAW' })).ok).toBe(true)
    })

    it.each(['SYS_ADMIN', 'NET_ADMIN', 'SYS_PTRACE', 'SYS_MODULE', 'SYS_RAWIO', 'BPF', 'PERFMON', 'SYS_TIME', 'DAC_READ_SEARCH', 'SYSLOG'])(
      'refuses %s beyond the default set, however it is spelt', (cap) => {
        for (const spelling of [cap, cap.toLowerCase(), `CAP_${cap}`, `cap_${cap.toLowerCase()}`]) {
          expect(check(withService({ cap_add: [spelling] })).violations).toEqual([
            expect.stringMatching(new RegExp(`^service web: cap_add ${spelling} is not allowed \\(allowed: AUDIT_WRITE, CHOWN, DAC_OVERRIDE`)),
          ])
        }
      },
    )

    it('refuses ALL in any spelling, even when the allow-list names it', () => {
      for (const all of ['ALL', 'all', 'CAP_ALL']) {
        expect(check(withService({ cap_add: [all] })).violations).toEqual([`service web: cap_add ${all} grants every capability, as good as privileged mode`])
      }
      expect(check(withService({ cap_add: ['ALL'] }), { ...options, allowedCapabilities: ['ALL'] }).ok).toBe(false)
    })

    it('takes the allow-list from OWLAT_ALLOWED_CAPABILITIES', () => {
      const text = withService({ cap_add: ['SYS_NICE', 'CHOWN'] })
      expect(check(text).ok).toBe(false)
      const narrowed = composePolicyOptionsFromEnv({ OWLAT_ALLOWED_CAPABILITIES: 'cap_sys_nice, chown' }, PROJECT)
      expect(narrowed.allowedCapabilities).toEqual(['SYS_NICE', 'CHOWN'])
      expect(check(text, narrowed).ok).toBe(true)
      expect(check(withService({ cap_add: ['FOWNER'] }), narrowed).violations).toEqual([expect.stringMatching(/cap_add FOWNER is not allowed \(allowed: SYS_NICE, CHOWN; OWLAT_ALLOWED_CAPABILITIES\)/)])
    })
  })

  it('refuses devices and device cgroup rules', () => {
    expect(check(withService({ devices: ['/dev/sda:/dev/sda'] })).violations).toEqual([expect.stringMatching(/^service web: devices/)])
    expect(check(withService({ device_cgroup_rules: ['c 1:3 mr'] })).violations).toEqual([expect.stringMatching(/^service web: device_cgroup_rules/)])
  })

  it.each(['pid', 'ipc', 'uts', 'userns_mode', 'network_mode'])('refuses %s: host', (key) => {
    expect(check(withService({ [key]: 'host' })).violations).toEqual([`service web: ${key}: host shares the host's namespace with the container`])
  })

  it('accepts non-host namespace modes', () => {
    expect(check(withService({ network_mode: 'service:redis', ipc: 'shareable' })).ok).toBe(true)
  })

  it.each(['pid', 'ipc', 'network_mode'])('refuses %s joining the socket proxy or a container outside the file', (key) => {
    expect(check(withService({ [key]: 'service:docker-socket-proxy' })).violations).toEqual([
      `service web: ${key}: service:docker-socket-proxy joins the Docker socket proxy's namespace (it gives root on the host)`,
    ])
    expect(check(withService({ [key]: 'container:a1b2c3' })).violations).toEqual([
      `service web: ${key}: container:a1b2c3 joins a container outside this file, which this check cannot see`,
    ])
  })

  it.each([
    ['seccomp=unconfined', /seccomp/],
    ['seccomp:unconfined', /seccomp/],
    ['apparmor=unconfined', /AppArmor/],
    ['apparmor:unconfined', /AppArmor/],
  ])('refuses security_opt %s', (opt, why) => {
    const result = check(withService({ security_opt: [opt] }))
    expect(result.violations).toHaveLength(1)
    expect(result.violations[0]).toMatch(new RegExp(`^service web: security_opt ${opt} `))
    expect(result.violations[0]).toMatch(why)
  })

  describe('bind mounts', () => {
    it('refuses short-syntax host paths outside the allowed folders', () => {
      expect(check(withService({ volumes: ['/etc:/host-etc:ro'] })).violations).toEqual([
        expect.stringMatching(/^service web: bind mount "\/etc" mounts host path \/etc, outside the allowed folders \(\/opt\/owlat\)/),
      ])
    })

    it('refuses long-syntax bind sources outside the allowed folders', () => {
      const result = check(withService({ volumes: [{ type: 'bind', source: '/root/.ssh', target: '/keys' }] }))
      expect(result.violations).toEqual([expect.stringMatching(/^service web: bind mount "\/root\/\.ssh" mounts host path \/root\/\.ssh/)])
    })

    it('resolves relative sources against the project folder', () => {
      expect(check(withService({ volumes: ['./data:/data'] })).ok).toBe(true)
      expect(check(withService({ volumes: [{ type: 'bind', source: './backups', target: '/b' }] })).ok).toBe(true)
      const escape = check(withService({ volumes: ['../../etc:/x'] }))
      expect(escape.violations).toEqual([expect.stringContaining('mounts host path /etc')])
      // The same relative path is fine or not depending on where the project lives.
      expect(check(withService({ volumes: ['../shared:/x'] }), { projectDir: '/srv/owlat/app', allowedBindPrefixes: ['/srv/owlat'] }).ok).toBe(true)
    })

    it('does not treat a sibling folder with a common prefix as inside', () => {
      expect(check(withService({ volumes: ['/opt/owlat-other:/x'] })).ok).toBe(false)
    })

    it('accepts named and anonymous volumes', () => {
      expect(check(withService({ volumes: ['data:/data', '/scratch', { type: 'volume', source: 'data', target: '/d' }, { type: 'tmpfs', target: '/t' }] })).ok).toBe(true)
    })

    it('refuses interpolated host paths it cannot resolve', () => {
      expect(check(withService({ volumes: ['${DATA_DIR}:/data'] })).violations[0]).toMatch(/variable interpolation/)
    })

    it('honours configured bind prefixes', () => {
      const text = withService({ volumes: ['/srv/mail:/mail'] })
      expect(check(text).ok).toBe(false)
      expect(check(text, { ...options, allowedBindPrefixes: ['.', '/srv/mail'] }).ok).toBe(true)
    })

    it('sees host paths behind local-driver bind volumes, secrets, configs and env files', () => {
      const text = stringify({
        services: { web: { image: 'ghcr.io/owlat/web:1.3.0', env_file: ['/etc/environment', './web.env'] } },
        volumes: { sneaky: { driver: 'local', driver_opts: { type: 'none', o: 'bind', device: '/etc' } } },
        secrets: { shadow: { file: '/etc/shadow' }, ok: { file: './secrets/key' } },
        configs: { passwd: { file: '/etc/passwd' } },
      })
      const result = check(text)
      expect(result.violations).toEqual([
        expect.stringMatching(/^service web: env_file "\/etc\/environment"/),
        expect.stringMatching(/^volume sneaky: device "\/etc"/),
        expect.stringMatching(/^secret shadow: file "\/etc\/shadow"/),
        expect.stringMatching(/^config passwd: file "\/etc\/passwd"/),
      ])
    })
  })

  describe('Docker socket', () => {
    it.each(['/var/run/docker.sock', '/run/docker.sock'])('refuses %s in short syntax for other services', (socket) => {
      expect(check(withService({ volumes: [`${socket}:/var/run/docker.sock`] })).violations).toEqual([
        expect.stringMatching(new RegExp(`^service web: bind mount mounts the Docker socket ${socket}; only the "docker-socket-proxy" service may`)),
      ])
    })

    it('refuses the socket in long syntax, even inside the allowed folders list', () => {
      const text = withService({ volumes: [{ type: 'bind', source: '/var/run/docker.sock', target: '/sock' }] })
      expect(check(text, { ...options, allowedBindPrefixes: ['/'] }).violations[0]).toMatch(/Docker socket/)
    })

    it('refuses a folder that contains the socket', () => {
      expect(check(withService({ volumes: ['/var/run:/host-run'] })).violations).toEqual([expect.stringContaining('contains the Docker socket')])
    })

    it('lets the configured socket-proxy service mount it', () => {
      const proxy = { image: 'tecnativa/docker-socket-proxy:0.3', volumes: ['/run/docker.sock:/var/run/docker.sock'] }
      expect(check(withService(proxy, 'docker-socket-proxy')).ok).toBe(true)
      expect(check(withService(proxy, 'proxy')).ok).toBe(false)
      expect(check(withService(proxy, 'proxy'), { ...options, socketProxyService: 'proxy' }).ok).toBe(true)
    })
  })

  describe('what compose will run, not the text', () => {
    const proxy = { image: 'tecnativa/docker-socket-proxy:0.3', volumes: ['/var/run/docker.sock:/var/run/docker.sock:ro'] }
    const stack = (web: Record<string, unknown>) => stringify({ services: { 'docker-socket-proxy': proxy, 'web': { image: 'ghcr.io/owlat/web:1.3.0', ...web } } })

    it.each([
      ['docker-socket-proxy'],
      ['docker-socket-proxy:ro'],
      ['service:docker-socket-proxy:rw'], // how `docker-compose config` writes it
    ])('sees the socket that volumes_from [%s] mounts', (entry) => {
      expect(check(stack({ volumes_from: [entry] })).violations).toEqual([
        'service web: volumes_from docker-socket-proxy: bind mount mounts the Docker socket /var/run/docker.sock; only the "docker-socket-proxy" service may (it gives root on the host)',
      ])
    })

    it('follows volumes_from through another service, and refuses containers and unknown services', () => {
      const text = stringify({ services: { 'docker-socket-proxy': proxy, 'relay': { image: 'redis:7', volumes_from: ['docker-socket-proxy'] }, 'web': { image: 'ghcr.io/owlat/web:1', volumes_from: ['relay'] } } })
      expect(check(text).violations).toEqual([
        expect.stringMatching(/^service relay: volumes_from docker-socket-proxy: bind mount mounts the Docker socket/),
        expect.stringMatching(/^service web: volumes_from docker-socket-proxy: bind mount mounts the Docker socket/),
      ])
      expect(check(stack({ volumes_from: ['container:proxy'] })).violations).toEqual([expect.stringMatching(/^service web: volumes_from "container:proxy" takes the mounts of a container outside this file/)])
      expect(check(stack({ volumes_from: ['nope'] })).violations).toEqual(['service web: volumes_from "nope" names no service of this file'])
      expect(check(stringify({ services: { data: { image: 'redis:7', volumes: ['./data:/data'] }, web: { image: 'ghcr.io/owlat/web:1', volumes_from: ['data:ro'] } } })).ok).toBe(true)
    })

    it.each([
      [{ service: 'docker-socket-proxy' }],
      ['docker-socket-proxy'],
    ])('merges what the service extends in the same file (%j)', (ext) => {
      expect(check(stack({ extends: ext })).violations).toEqual([
        'service web: bind mount mounts the Docker socket /var/run/docker.sock; only the "docker-socket-proxy" service may (it gives root on the host)',
      ])
    })

    it('merges extends chains, keeps the base\'s settings, and refuses cycles and unknown bases', () => {
      const text = stringify({
        services: {
          base: { image: 'ghcr.io/owlat/web:1', privileged: true, cap_add: ['SYS_ADMIN'] },
          middle: { extends: { service: 'base' }, cap_add: ['CHOWN'] },
          web: { extends: { service: 'middle' }, image: 'ghcr.io/owlat/web:2' },
        },
      })
      const { violations } = check(text)
      expect(violations.filter(v => v.startsWith('service web: '))).toEqual([
        'service web: privileged mode gives the container full access to the host',
        expect.stringMatching(/^service web: cap_add SYS_ADMIN is not allowed/),
      ])
      expect(check(stringify({ services: { a: { image: 'redis:7', extends: 'b' }, b: { image: 'redis:7', extends: 'a' } } })).violations).toEqual(
        expect.arrayContaining([expect.stringMatching(/extends .* in a cycle/)]),
      )
      expect(check(stack({ extends: { service: 'ghost' } })).violations).toEqual(['service web: extends "ghost", which is no service of this file'])
    })

    it.each([
      ['network_mode', { network_mode: '${X:-host}' }],
      ['pid', { pid: '${X:-host}' }],
      ['ipc', { ipc: '$IPC' }],
      ['security_opt', { security_opt: ['${X:-seccomp=unconfined}'] }],
      ['cap_add', { cap_add: ['${CAP:-SYS_ADMIN}'] }],
      ['privileged', { privileged: '${PRIV:-true}' }],
      ['bind mount', { volumes: ['${SOCK:-/var/run/docker.sock}:/var/run/docker.sock'] }],
      ['bind mount', { volumes: [{ type: 'bind', source: '${SRC}', target: '/x' }] }],
      ['volumes_from', { volumes_from: ['${FROM:-docker-socket-proxy}'] }],
      ['extends', { extends: { service: '${BASE:-docker-socket-proxy}' } }],
    ])('refuses interpolation in %s, which only the host\'s environment would decide', (what, web) => {
      const { violations } = check(stack(web))
      expect(violations).toHaveLength(1)
      expect(violations[0]).toMatch(new RegExp(`^service web: ${what} ".*\\$.*" uses variable interpolation, so what compose runs cannot be checked`))
    })

    it('lets values the policy does not read interpolate, and reads $$ as a literal $', () => {
      const text = stack({
        environment: { SECRET: '${SECRET:?set it}', HOME_DIR: '$$HOME' },
        ports: ['${PORT:-3000}:3000'],
        command: ['sh', '-c', 'echo $$PATH ${GREETING}'],
        // The container side of a bind may depend on the environment; the host side may not.
        volumes: ['.:${OWLAT_DIR:-/opt/owlat}', './data$$x:/data'],
      })
      expect(check(text)).toEqual({ ok: true, violations: [] })
    })
  })

  it('accepts Owlat\'s own stack: every service, profiles, cap_drop ALL plus adds, read-only roots, the socket proxy', () => {
    const doc = parse(OWLAT_STACK) as { services: Record<string, Record<string, unknown>> }
    // The fixture keeps the shape that matters, so this stays a test of the real stack.
    expect(Object.keys(doc.services)).toEqual(['convex', 'convex-dashboard', 'web', 'mta', 'redis', 'clamav', 'docker-socket-proxy', 'updater', 'convex-deploy', 'nest-api-deploy'])
    expect(doc.services.clamav).toMatchObject({ cap_drop: ['ALL'], cap_add: expect.arrayContaining(['DAC_OVERRIDE', 'FOWNER']) })
    expect(doc.services.web).toMatchObject({ cap_drop: ['ALL'], read_only: true })
    expect(doc.services['nest-api-deploy']!.profiles).toEqual(['hosted', 'deploy'])
    expect(check(OWLAT_STACK)).toEqual({ ok: true, violations: [] })
  })

  it('reports every violation of a file together', () => {
    const text = stringify({
      services: {
        web: { image: 'evil/web', privileged: true, network_mode: 'host', volumes: ['/:/host'] },
        worker: { image: 'ghcr.io/owlat/worker:1', cap_add: ['SYS_PTRACE'], security_opt: ['seccomp:unconfined'], devices: ['/dev/kvm'] },
      },
    })
    const result = check(text)
    expect(result.ok).toBe(false)
    expect(result.violations).toHaveLength(7)
    expect(result.violations.filter(v => v.startsWith('service web: '))).toHaveLength(4)
    expect(result.violations.filter(v => v.startsWith('service worker: '))).toHaveLength(3)
  })

  describe('YAML input', () => {
    it('reports a parse error as a violation', () => {
      const result = check('services:\n  web: [unclosed\n')
      expect(result.ok).toBe(false)
      expect(result.violations).toEqual([expect.stringMatching(/^compose file is not valid YAML: /)])
    })

    it('refuses a YAML alias bomb', () => {
      const bomb = [
        'a: &a ["x","x","x","x","x","x","x","x","x"]',
        'b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]',
        'c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]',
        'd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]',
        'services: {web: {image: "ghcr.io/owlat/web:1"}}',
      ].join('\n')
      const result = check(bomb)
      expect(result.ok).toBe(false)
      expect(result.violations).toEqual([expect.stringContaining('alias count')])
    })

    it('sees settings merged in through an anchor', () => {
      const text = 'x-common: &common\n  privileged: true\nservices:\n  web:\n    <<: *common\n    image: ghcr.io/owlat/web:1.3.0\n'
      expect(check(text).violations).toEqual([expect.stringMatching(/^service web: privileged mode/)])
    })

    it('refuses duplicate keys that could hide a setting', () => {
      expect(check('services:\n  web:\n    image: ghcr.io/owlat/web:1\n    privileged: false\n    privileged: true\n').violations[0]).toMatch(/not valid YAML/)
    })

    it('refuses several documents and files without services', () => {
      expect(check('services: {}\n---\nservices: {}\n').ok).toBe(false)
      expect(check('just a string').violations).toEqual(['compose file must be a mapping with a services section'])
      expect(check('services: {}').violations).toEqual(['compose file has no services'])
    })

    it('refuses includes and extends from other files it cannot see', () => {
      expect(check(`include: [other.yml]\n${withService({})}`).violations).toEqual([expect.stringMatching(/include pulls in other files/)])
      expect(check(withService({ extends: { file: 'base.yml', service: 'web' } })).violations).toEqual([expect.stringMatching(/extends a service from another file/)])
    })
  })
})

describe('composePolicyOptionsFromEnv', () => {
  it('uses the documented defaults when the variables are unset or empty', () => {
    expect(composePolicyOptionsFromEnv({ OWLAT_ALLOWED_IMAGE_PREFIXES: ' ' }, PROJECT)).toEqual({
      projectDir: PROJECT,
      allowedImagePrefixes: DEFAULT_ALLOWED_IMAGE_PREFIXES,
      allowedBindPrefixes: DEFAULT_ALLOWED_BIND_PREFIXES,
      allowedCapabilities: DEFAULT_ALLOWED_CAPABILITIES,
      globalServices: [],
    })
  })

  it('splits comma-separated lists', () => {
    const opts = composePolicyOptionsFromEnv({ OWLAT_ALLOWED_IMAGE_PREFIXES: 'a.io/x/, redis', OWLAT_ALLOWED_BIND_PREFIXES: '/srv,.' }, PROJECT)
    expect(opts.allowedImagePrefixes).toEqual(['a.io/x/', 'redis'])
    expect(opts.allowedBindPrefixes).toEqual(['/srv', '.'])
  })
})

describe('compose policy: Swarm keys', () => {
  const withWeb = (web: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
    stringify({ ...cleanStack, ...extra, services: { ...cleanStack.services, web: { ...cleanStack.services.web, ...web } } })

  it('allows placement, update and rollback policy, resources, replicas and restart policy', () => {
    const deploy = {
      replicas: 2,
      placement: { constraints: ['node.role == worker'] },
      update_config: { order: 'start-first', failure_action: 'rollback', monitor: '10s' },
      rollback_config: { order: 'start-first' },
      resources: { limits: { cpus: '1', memory: '512M' }, reservations: { memory: '128M' } },
      restart_policy: { condition: 'on-failure' },
      endpoint_mode: 'dnsrr',
    }
    expect(checkComposePolicy(withWeb({ deploy }), options)).toEqual({ ok: true, violations: [] })
  })

  it('allows deploy.mode global only for the services OWLAT_SWARM_GLOBAL_SERVICES names', () => {
    const text = withWeb({ deploy: { mode: 'global' } })
    expect(checkComposePolicy(text, options).violations).toEqual([
      'service web: deploy.mode global runs a task on every node of the swarm, new ones included; allowed only for the services OWLAT_SWARM_GLOBAL_SERVICES names',
    ])
    expect(checkComposePolicy(text, composePolicyOptionsFromEnv({ OWLAT_SWARM_GLOBAL_SERVICES: 'mta, web' }, PROJECT)).ok).toBe(true)
    expect(checkComposePolicy(withWeb({ deploy: { mode: 'global-job' } }), options).violations).toEqual([
      'service web: deploy.mode "global-job" is not allowed (replicated, or global for the services OWLAT_SWARM_GLOBAL_SERVICES names)',
    ])
    expect(checkComposePolicy(withWeb({ deploy: { mode: '${MODE}' } }), options).violations[0]).toMatch(/^service web: deploy.mode "\$\{MODE\}" uses variable interpolation/)
  })

  it('refuses other deploy keys and host devices through resource reservations', () => {
    const devices = [{ capabilities: ['gpu'] }]
    expect(checkComposePolicy(withWeb({ deploy: { endpoint_spec: {}, resources: { reservations: { devices } } } }), options).violations).toEqual([
      'service web: deploy.endpoint_spec is not allowed (allowed: mode, replicas, placement, update_config, rollback_config, resources, restart_policy, endpoint_mode, labels)',
      'service web: deploy.resources.reservations.devices give the container host devices',
    ])
  })

  it('refuses the host\'s network reached through an external network, whatever its key', () => {
    for (const networks of [{ outside: { external: true, name: 'host' } }, { host: { external: true } }, { outside: { external: { name: 'HOST' } } }]) {
      const key = Object.keys(networks)[0]!
      expect(checkComposePolicy(withWeb({ networks: [key] }, { networks }), options).violations).toEqual([
        `service web: network ${key} is the host's network, which shares the host's network namespace with the container`,
      ])
    }
    // A network of the file's own, even one keyed `host`, is not the host's.
    expect(checkComposePolicy(withWeb({ networks: { host: {} } }, { networks: { host: { driver: 'overlay' } } }), options).ok).toBe(true)
  })
})
