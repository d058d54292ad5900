/** The compose driver's reading of compose files: the operator's override merged as compose merges it. */
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { fileArgs, OVERRIDE_FILE, overrideFile } from '../../sidecar/drivers/compose-cli'
import { activeProfiles, defaultServices, deploySteps, parseComposeModel, withOverride } from '../../sidecar/drivers/compose-project'
import { stringify } from 'yaml'

const RELEASE = `
services:
  web:
    image: ghcr.io/owlat/web:1.3.0
  convex:
    image: ghcr.io/get-convex/convex-backend:abc
  convex-deploy:
    image: ghcr.io/owlat/convex-deploy:1.3.0
    profiles: [deploy]
`

describe('withOverride', () => {
  it('takes an image from the override, keeps the rest, and adds services only the override has', () => {
    const model = withOverride(parseComposeModel(RELEASE), `
services:
  convex:
    image: registry.local/stand-in/convex:1
  web:
    environment:
      OWLAT_CONVEX_URL: ""
  mailpit:
    image: axllent/mailpit:v1
`)
    expect(model.services.get('convex')).toEqual({ image: 'registry.local/stand-in/convex:1', profiles: [], labels: {} })
    expect(model.services.get('web')).toEqual({ image: 'ghcr.io/owlat/web:1.3.0', profiles: [], labels: {} })
    expect(model.services.get('convex-deploy')).toEqual({ image: 'ghcr.io/owlat/convex-deploy:1.3.0', profiles: ['deploy'], labels: {} })
    expect(defaultServices(model)).toEqual(['convex', 'mailpit', 'web'])
  })

  it('leaves the model alone without an override, or with an empty one', () => {
    const model = parseComposeModel(RELEASE)
    expect(withOverride(model, null)).toBe(model)
    expect(withOverride(model, '')).toBe(model)
  })

  it('refuses an override that is not YAML', () => {
    expect(() => withOverride(parseComposeModel(RELEASE), 'services: [')).toThrow(/^the override file is not valid YAML/)
  })
})

describe('fileArgs', () => {
  it('adds the project\'s docker-compose.override.yml after the file, when there is one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'owlat-override-'))
    expect(overrideFile(dir)).toBeNull()
    expect(fileArgs(join(dir, 'docker-compose.next.yml'), dir)).toEqual(['-f', join(dir, 'docker-compose.next.yml')])
    writeFileSync(join(dir, OVERRIDE_FILE), 'services: {}\n')
    expect(fileArgs(join(dir, 'docker-compose.next.yml'), dir)).toEqual(['-f', join(dir, 'docker-compose.next.yml'), '-f', join(dir, 'docker-compose.override.yml')])
  })
})

describe('deploySteps', () => {
  const oneShot = (order: string | null, profiles = ['deploy']) => ({ image: 'ghcr.io/owlat/convex-deploy:1.0.0', profiles, ...(order === null ? {} : { labels: { 'io.owlat.deploy-functions': order } }) })

  it('runs every marked one-shot in label order; one needing an inactive profile is left out', () => {
    const model = parseComposeModel(stringify({ services: {
      'web': { image: 'ghcr.io/owlat/web:1.0.0' },
      'nest-api-deploy': oneShot('20', ['hosted', 'deploy']),
      'convex-deploy': oneShot('10'),
      'search-deploy': oneShot('15'),
    } }))
    expect(deploySteps(model).steps.map(s => s.service)).toEqual(['convex-deploy', 'search-deploy'])
    expect(deploySteps(model).inactive.map(s => s.service)).toEqual(['nest-api-deploy'])
    const hosted = deploySteps(model, activeProfiles({ COMPOSE_PROFILES: 'hosted' }))
    expect(hosted.steps.map(s => [s.service, s.profiles])).toEqual([['convex-deploy', ['deploy']], ['search-deploy', ['deploy']], ['nest-api-deploy', ['hosted', 'deploy']]])
  })

  it('keeps the older convention when nothing is marked: convex-deploy under the deploy profile', () => {
    expect(deploySteps(parseComposeModel(stringify({ services: { 'convex-deploy': oneShot(null) } }))).steps.map(s => s.service)).toEqual(['convex-deploy'])
    expect(deploySteps(parseComposeModel(stringify({ services: { 'convex-deploy': oneShot(null, []) } }))).steps).toEqual([])
  })

  it('refuses a marked service up would start, and an order that is not a number', () => {
    expect(() => deploySteps(parseComposeModel(stringify({ services: { x: oneShot('1', []) } })))).toThrow('does not sit under the "deploy" profile')
    expect(() => deploySteps(parseComposeModel(stringify({ services: { x: oneShot('first') } })))).toThrow('is not a number')
  })

  it('takes labels from the operator\'s override, key by key', () => {
    const model = withOverride(parseComposeModel(stringify({ services: { x: oneShot('5') } })), stringify({ services: { x: { labels: ['io.owlat.deploy-functions=1', 'other=y'] } } }))
    expect(model.services.get('x')!.labels).toEqual({ 'io.owlat.deploy-functions': '1', 'other': 'y' })
  })
})
