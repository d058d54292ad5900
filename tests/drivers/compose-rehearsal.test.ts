/**
 * What the compose driver's rehearsal runs instead of the release's file (the engine-backed run
 * is the driver contract's): Owlat's own stack (tests/fixtures/owlat-stack), rewritten so nothing
 * of it can reach production or be reached from outside.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse } from 'yaml'
import { describe, expect, it } from 'vitest'
import { REHEARSAL_LABEL, rehearsalProject, rewrite } from '../../sidecar/drivers/compose-rehearsal'

const FIXTURE = join(import.meta.dirname, '..', 'fixtures', 'owlat-stack', 'docker-compose.yml')
const labels = { [REHEARSAL_LABEL]: 'job-1' }

function rewritten(keep: string[]) {
  const doc = parse(readFileSync(FIXTURE, 'utf8')) as Record<string, unknown>
  return rewrite(doc, { keep: new Set(keep), external: new Set(), labels, volumeName: name => `owlat-rehearsal-x_${name}`, base: true }) as {
    services: Record<string, Record<string, unknown>>
    networks: Record<string, Record<string, unknown>>
    volumes: Record<string, unknown>
  }
}

describe('compose rehearsal: the rewritten stack', () => {
  it('names the project validly after the job', () => {
    expect(rehearsalProject('owlat', '5860849A-99e8-412d')).toMatch(/^owlat-rehearsal-5860849a[0-9a-f]{4}$/)
    expect(rehearsalProject('owlat', 'a')).not.toBe(rehearsalProject('owlat', 'A'))
  })

  it('runs only what it keeps, publishes nothing, sits on its own internal networks, and uses the copies', () => {
    const out = rewritten(['convex', 'web', 'mta', 'redis', 'clamav', 'docker-socket-proxy', 'convex-deploy'])
    expect(Object.keys(out.services).sort()).toEqual(['clamav', 'convex', 'convex-deploy', 'docker-socket-proxy', 'mta', 'redis', 'web'])
    for (const [name, service] of Object.entries(out.services)) {
      expect([name, service.ports, service.container_name, service.restart]).toEqual([name, undefined, undefined, undefined])
      expect(service.labels).toMatchObject(labels)
    }
    expect(out.networks).toEqual({
      'docker-proxy': { internal: true, labels },
      'default': { internal: true, labels },
    })
    expect(out.volumes).toEqual({
      'convex-data': { external: true, name: 'owlat-rehearsal-x_convex-data' },
      'redis-data': { external: true, name: 'owlat-rehearsal-x_redis-data' },
      'clamav-data': { external: true, name: 'owlat-rehearsal-x_clamav-data' },
    })
  })

  it('drops what points at production: host networking, external networks, dependencies on services it does not run', () => {
    const doc = {
      services: {
        web: { image: 'w', network_mode: 'host', depends_on: { updater: { condition: 'service_started' } } },
        mta: { image: 'm', networks: ['shared', 'default'], labels: ['a=b'] },
        sidecar: { image: 's', network_mode: 'service:mta' },
      },
      networks: { shared: { external: true }, default: { name: 'owlat_default' } },
    }
    const out = rewrite(doc, { keep: new Set(['web', 'mta', 'sidecar']), external: new Set(['shared']), labels, volumeName: n => n, base: true }) as { services: Record<string, Record<string, unknown>>, networks: unknown }
    expect(out.services.web).toEqual({ image: 'w', depends_on: {}, labels })
    expect(out.services.mta).toEqual({ image: 'm', networks: ['default'], labels: ['a=b', `${REHEARSAL_LABEL}=job-1`] })
    expect(out.services.sidecar!.network_mode).toBe('service:mta')
    expect(out.networks).toEqual({ default: { internal: true, labels } })
  })

  it('refuses a writable bind mount: the rehearsal would write to production\'s files', () => {
    const doc = { services: { web: { image: 'w', volumes: ['/var/run/docker.sock:/var/run/docker.sock:ro', './uploads:/app/uploads'] } } }
    expect(() => rewrite(doc, { keep: new Set(['web']), external: new Set(), labels, volumeName: n => n, base: true }))
      .toThrow('web bind-mounts ./uploads writable: a rehearsal copies named volumes only, so it would write to production\'s files')
  })
})
