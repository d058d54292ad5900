/**
 * Each model check produced from a compose file that trips it and from one that passes (the
 * failure modes of seeds/self-hosted-convex-docker.txt and seeds/maintenance-and-updates.txt).
 * The real-engine side (rendered by compose, refused in preflight) is tests/docker/checks.test.ts.
 */
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { stringify } from 'yaml'
import { checkDkimKeys, modelChecks, parseDuration, parseStackModel, type Check } from '../../shared/node/checks'

const SECRET = 'a3f1c9e07b5d2486f0e1d3c5b7a9e2f4c6d8b0a1e3f5c7d9b2a4c6e8f0a1b3c5'
const OWLAT_SECRET = 'Zq8vN2mXr5tK9wB4yL7cH1jD6fG3sP0a'

/** A stack that passes every model check; `patch` changes one service at a time. */
function stack(patch: (services: Record<string, Record<string, unknown>>) => void = () => {}): string {
  const logging = { driver: 'json-file', options: { 'max-size': '10m', 'max-file': '3' } }
  const services: Record<string, Record<string, unknown>> = {
    convex: {
      image: 'ghcr.io/get-convex/convex-backend:abc',
      ports: ['3210:3210', '3211:3211'],
      environment: { INSTANCE_SECRET: SECRET },
      volumes: ['convex-data:/convex/data'],
      logging,
    },
    web: {
      image: 'ghcr.io/owlat/web:1.2.2',
      ports: ['3000:3000'],
      environment: { OWLAT_INSTANCE_SECRET: OWLAT_SECRET, NUXT_PUBLIC_CONVEX_URL: 'http://localhost:3210', NUXT_PUBLIC_CONVEX_SITE_URL: 'https://convex-site.example.com' },
      logging,
    },
    redis: { image: 'redis:7.4.1-alpine', command: ['redis-server', '--appendonly', 'yes'], volumes: ['redis-data:/data'], logging },
    dashboard: { image: 'ghcr.io/get-convex/convex-dashboard:abc', ports: ['127.0.0.1:6791:6791'], logging },
  }
  patch(services)
  return stringify({ services, volumes: { 'convex-data': {}, 'redis-data': {} } })
}

function run(text: string, dotenv: Record<string, string> = {}): Record<string, Check> {
  return Object.fromEntries(modelChecks(parseStackModel(text, dotenv), dotenv).map(c => [c.id, c]))
}

describe('model checks', () => {
  it('pass on a sound stack', () => {
    const checks = run(stack())
    for (const id of ['convex-data-volume', 'convex-mount', 'convex-instance-secret', 'owlat-instance-secret', 'public-convex-url', 'dashboard-exposure', 'log-rotation', 'redis-aof']) {
      expect(checks[id]?.status, `${id}: ${checks[id]?.message}`).toBe('ok')
    }
    expect(checks['convex-data-volume']!.blocking).toBe(true)
  })

  it('pass on the production compose file with its .env filled in', () => {
    const text = readFileSync('deploy/docker-compose.yml', 'utf8')
    const checks = run(text, { CONVEX_INSTANCE_SECRET: SECRET, OWLAT_INSTANCE_SECRET: OWLAT_SECRET, OWLAT_RELEASE_PUBLIC_KEY: 'k', NUXT_SESSION_PASSWORD: 'p' })
    expect(checks['convex-data-volume']!.status).toBe('ok')
    expect(checks['convex-mount']!.status).toBe('ok')
    expect(checks['convex-instance-secret']!.status).toBe('ok')
    expect(checks['redis-aof']!.status).toBe('ok')
    expect(checks['public-convex-url']!.status).toBe('ok')
    expect(checks['log-rotation']!.status).toBe('ok')
  })

  it('block a Convex service without a data volume (Q27/Q28)', () => {
    const c = run(stack((s) => {
      delete s.convex!.volumes
    }))['convex-data-volume']!
    expect(c).toMatchObject({ status: 'fail', blocking: true })
    expect(c.message).toContain('wipes the database')
  })

  it('block /convex/data on an anonymous volume or a tmpfs, and a read-only bind', () => {
    expect(run(stack((s) => {
      s.convex!.volumes = ['/convex/data']
    }))['convex-data-volume']!.message).toContain('anonymous volume')
    expect(run(stack((s) => {
      delete s.convex!.volumes
      s.convex!.tmpfs = ['/convex/data']
    }))['convex-data-volume']!.message).toContain('tmpfs')
    expect(run(stack((s) => {
      s.convex!.volumes = ['./data:/convex/data:ro']
    }))['convex-data-volume']!.status).toBe('fail')
    expect(run(stack((s) => {
      s.convex!.volumes = ['./data:/convex/data']
    }))['convex-data-volume']!.status).toBe('ok')
  })

  it('reads the long syntax compose config renders', () => {
    const long = stack((s) => {
      s.convex!.volumes = [{ type: 'volume', source: 'convex-data', target: '/convex/data' }]
    })
    expect(run(long)['convex-data-volume']!.status).toBe('ok')
    const tmpfs = stack((s) => {
      s.convex!.volumes = [{ type: 'tmpfs', target: '/convex/data' }]
    })
    expect(run(tmpfs)['convex-data-volume']!.status).toBe('fail')
  })

  it('block a bind mount over /convex itself (Q25)', () => {
    const c = run(stack((s) => {
      (s.convex!.volumes as string[]).push('./convex:/convex:ro')
    }))['convex-mount']!
    expect(c).toMatchObject({ status: 'fail', blocking: true })
    expect(c.fix).toContain('/app/convex')
  })

  it('fail an empty, default or non-hex Convex instance secret, and a missing Owlat one', () => {
    expect(run(stack((s) => {
      s.convex!.environment = { INSTANCE_SECRET: '' }
    }))['convex-instance-secret']!.status).toBe('fail')
    expect(run(stack((s) => {
      s.convex!.environment = { INSTANCE_SECRET: 'changeme' }
    }))['convex-instance-secret']!.message).toContain('placeholder')
    expect(run(stack((s) => {
      s.convex!.environment = { INSTANCE_SECRET: 'Zq8vN2mXr5tK9wB4yL7cH1jD6fG3sP0aZq8vN2mXr5tK9wB4' }
    }))['convex-instance-secret']!.message).toContain('not a hex')
    expect(run(stack((s) => {
      s.convex!.environment = {}
    }))['convex-instance-secret']!.message).toContain('not set')
    expect(run(stack((s) => {
      s.web!.environment = {}
    }))['owlat-instance-secret']!.status).toBe('fail')
  })

  it('warn about a Docker-internal public Convex URL', () => {
    const c = run(stack((s) => {
      (s.web!.environment as Record<string, string>).NUXT_PUBLIC_CONVEX_URL = 'http://convex:3210'
    }))['public-convex-url']!
    expect(c.status).toBe('warn')
    expect(c.message).toContain('Docker-internal host convex')
  })

  it('warn about a dashboard published on every interface', () => {
    const c = run(stack((s) => {
      s.dashboard!.ports = ['6791:6791']
    }))['dashboard-exposure']!
    expect(c.status).toBe('warn')
    expect(c.message).toContain('*:6791')
  })

  it('warn about services without log rotation', () => {
    const c = run(stack((s) => {
      delete s.redis!.logging
    }))['log-rotation']!
    expect(c.status).toBe('warn')
    expect(c.message).toContain('redis')
  })

  it('warn about Redis without AOF', () => {
    expect(run(stack((s) => {
      s.redis!.command = 'redis-server'
    }))['redis-aof']!.status).toBe('warn')
    expect(run(stack((s) => {
      s.redis!.command = 'redis-server --appendonly no'
    }))['redis-aof']!.status).toBe('warn')
    expect(run(stack((s) => {
      s.redis!.command = 'redis-server --appendonly yes'
    }))['redis-aof']!.status).toBe('ok')
  })

  it('fail DKIM_KEYS that is not JSON', () => {
    const model = parseStackModel(stack())
    expect(checkDkimKeys(model, { DKIM_KEYS: '{"example.com": ' }).status).toBe('fail')
    expect(checkDkimKeys(model, { DKIM_KEYS: '{"example.com": {"selector": "s1", "privateKey": "x"}}' }).status).toBe('ok')
    expect(checkDkimKeys(model, {}).status).toBe('skip')
  })
})

describe('parseDuration', () => {
  it('reads compose and Go durations', () => {
    expect(parseDuration('120s')).toBe(120_000)
    expect(parseDuration('1m30s')).toBe(90_000)
    expect(parseDuration('2m0s')).toBe(120_000)
    expect(parseDuration('1h')).toBe(3_600_000)
    expect(parseDuration('500ms')).toBe(500)
    expect(parseDuration('soon')).toBeNull()
  })
})
