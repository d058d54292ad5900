import { describe, expect, it } from 'vitest'
import { parse, stringify } from 'yaml'
import { deployFile, imageMatches, parseSwarmModel, stackServices, updateOrder } from '../../../sidecar/drivers/swarm-stack'
import { swarmSettingsFromEnv } from '../../../sidecar/drivers/swarm'

const release = stringify({
  services: {
    'web': { image: 'ghcr.io/owlat/web:1.3.0', deploy: { replicas: 2 } },
    'store': { image: 'ghcr.io/owlat/store:1.3.0', volumes: ['data:/data'] },
    'lb': { image: 'ghcr.io/owlat/lb:1', ports: [{ target: 80, published: 8080, mode: 'host' }] },
    'agent': { image: 'ghcr.io/owlat/agent:1', deploy: { mode: 'global' } },
    'updater': { image: 'ghcr.io/owlat/updater:1.3.0', volumes: ['updater-data:/data'] },
    'convex-deploy': { image: 'ghcr.io/owlat/convex-deploy:1.3.0', profiles: ['deploy'] },
  },
  volumes: { 'data': {}, 'updater-data': {} },
})

describe('swarm stack file', () => {
  it('reads each service\'s image, replicas (null for global) and profiles; a stack runs the unprofiled ones', () => {
    const model = parseSwarmModel(release)
    expect(model.services.get('web')).toEqual({ image: 'ghcr.io/owlat/web:1.3.0', replicas: 2, profiles: [] })
    expect(model.services.get('store')?.replicas).toBe(1)
    expect(model.services.get('agent')?.replicas).toBeNull()
    expect(stackServices(model)).toEqual(['agent', 'lb', 'store', 'updater', 'web'])
    expect(() => parseSwarmModel(stringify({ services: { web: { image: 'x', deploy: { replicas: 'two' } } } }))).toThrow('service web: deploy.replicas two is not a whole number')
    expect(() => parseSwarmModel('services: [')).toThrow(/^compose file is not valid YAML/)
  })

  it('starts the new task first only where two copies can run side by side', () => {
    expect(updateOrder({ image: 'x' })).toEqual({ order: 'start-first', why: 'two copies can run side by side' })
    expect(updateOrder({ ports: [{ target: 80, published: 8080, mode: 'host' }] }).order).toBe('stop-first')
    expect(updateOrder({ ports: ['8080:80'] }).order).toBe('start-first')
    expect(updateOrder({ volumes: ['data:/data'] })).toEqual({ order: 'stop-first', why: 'it mounts a named volume' })
    expect(updateOrder({ volumes: [{ type: 'volume', source: 'data', target: '/data' }] }).order).toBe('stop-first')
    expect(updateOrder({ volumes: ['./config:/config:ro', '/srv/x:/x'] }).order).toBe('start-first')
  })

  it('deploys the release with Swarm\'s health-gated rolling update filled in, the updater kept on the image it runs, profiled one-shots left out', () => {
    const out = deployFile(release, { updaterService: 'updater', updaterImage: 'ghcr.io/owlat/updater:1.2.0@sha256:abc', monitor: '5s' })
    const doc = parse(out.text) as { version: string, services: Record<string, { image: string, deploy: Record<string, unknown> }>, volumes: object }
    expect(doc.version).toBe('3.8')
    expect(Object.keys(doc.services).sort()).toEqual(['agent', 'lb', 'store', 'updater', 'web'])
    expect(doc.volumes).toEqual({ 'data': {}, 'updater-data': {} })
    expect(doc.services.web!.deploy).toEqual({
      replicas: 2,
      update_config: { parallelism: 0, monitor: '5s', order: 'start-first', failure_action: 'rollback' },
      rollback_config: { parallelism: 0, monitor: '5s', order: 'start-first' },
    })
    expect(doc.services.store!.deploy.update_config).toEqual({ parallelism: 1, monitor: '5s', order: 'stop-first', failure_action: 'rollback' })
    expect(doc.services.updater!.image).toBe('ghcr.io/owlat/updater:1.2.0@sha256:abc')
    expect(out.notes).toEqual(expect.arrayContaining([
      'convex-deploy: left out (profiles deploy; a stack runs no profiled services)',
      'web: start-first (two copies can run side by side), all tasks at once, health-gated, failure_action rollback',
      'lb: stop-first (it publishes a port in host mode), one task at a time, health-gated, failure_action rollback',
      'updater: stays on ghcr.io/owlat/updater:1.2.0@sha256:abc during the job (it moves to ghcr.io/owlat/updater:1.3.0 after the commit)',
    ]))
  })

  it('keeps what the release sets itself, except that a failed update always rolls back', () => {
    const own = stringify({ services: { web: { image: 'w:1', deploy: { update_config: { order: 'stop-first', parallelism: 3, failure_action: 'pause', delay: '10s' } } } } })
    const doc = parse(deployFile(own, { updaterService: 'updater', updaterImage: null, monitor: '5s' }).text) as { services: { web: { deploy: { update_config: object } } } }
    expect(doc.services.web.deploy.update_config).toEqual({ parallelism: 3, monitor: '5s', order: 'stop-first', failure_action: 'rollback', delay: '10s' })
  })

  it('matches a task\'s image to the file\'s by repository, tag and digest', () => {
    const task = '127.0.0.1:5000/owlat/web:1.1.0@sha256:aaa'
    expect(imageMatches(task, '127.0.0.1:5000/owlat/web:1.1.0')).toBe(true)
    expect(imageMatches(task, '127.0.0.1:5000/owlat/web:1.1.0@sha256:aaa')).toBe(true)
    expect(imageMatches(task, '127.0.0.1:5000/owlat/web@sha256:aaa')).toBe(true)
    expect(imageMatches(task, '127.0.0.1:5000/owlat/web:1.0.0')).toBe(false)
    expect(imageMatches(task, '127.0.0.1:5000/owlat/web:1.1.0@sha256:bbb')).toBe(false)
    expect(imageMatches(task, '127.0.0.1:5000/owlat/store:1.1.0')).toBe(false)
  })
})

describe('swarm driver settings', () => {
  it('defaults, and names every bad variable at once', () => {
    expect(swarmSettingsFromEnv({})).toMatchObject({ OWLAT_SWARM_STACK: 'owlat', OWLAT_SWARM_UPDATE_MONITOR: '5s', OWLAT_DOCKER_CMD: 'docker', OWLAT_WEB_SERVICE: 'web', OWLAT_WEB_VERSION_CHECK: 'http' })
    expect(() => swarmSettingsFromEnv({ OWLAT_SWARM_STACK: 'My Stack', OWLAT_SWARM_UPDATE_MONITOR: 'soon' })).toThrow(
      'invalid configuration: OWLAT_SWARM_STACK: lowercase letters, digits, - and _; OWLAT_SWARM_UPDATE_MONITOR: a duration such as 5s, 500ms or 1m',
    )
  })
})
