import { describe, expect, it } from 'vitest'
import { demoCompose } from '../../scripts/bootstrap'
import { parseCompose, versionFromImage } from '../../sidecar/compose-file'

describe('versionFromImage', () => {
  it('takes the tag of a pinned reference', () => {
    expect(versionFromImage(`ghcr.io/owlat/web:1.3.0@sha256:${'a'.repeat(64)}`)).toBe('1.3.0')
    expect(versionFromImage('ghcr.io/owlat/web:1.4.0-beta.1')).toBe('1.4.0-beta.1')
  })

  it('does not mistake a registry port for a tag', () => {
    expect(versionFromImage('registry.local:5000/owlat/web:2.0.1')).toBe('2.0.1')
    expect(() => versionFromImage('registry.local:5000/owlat/web')).toThrow('has no version tag')
  })

  it('refuses tags that are not semantic versions', () => {
    expect(() => versionFromImage('ghcr.io/owlat/web:latest')).toThrow('"latest" is not a semantic version')
    expect(() => versionFromImage('ghcr.io/owlat/web:v1.3.0')).toThrow('is not a semantic version')
    expect(() => versionFromImage('ghcr.io/owlat/web:1.3')).toThrow('is not a semantic version')
  })
})

describe('parseCompose', () => {
  it('reads the demo release compose files', () => {
    const web = parseCompose(demoCompose({ version: '1.4.0-beta.1', webEnv: { OWLAT_DEMO_FAULT: 'unhealthy' } }))
    expect(web.version).toBe('1.4.0-beta.1')
    expect(web.image).toMatch(/^ghcr\.io\/owlat\/web:1\.4\.0-beta\.1@sha256:[a-f0-9]{64}$/)
    expect(web.environment).toEqual({ NUXT_PUBLIC_SITE_URL: 'http://127.0.0.1:3000', OWLAT_DEMO_FAULT: 'unhealthy' })
  })

  it('normalises map and list environments', () => {
    const map = parseCompose('services:\n  web:\n    image: owlat/web:1.0.0\n    environment:\n      A: 1\n      B: true\n      C: null\n      D: text\n')
    expect(map.environment).toEqual({ A: '1', B: 'true', D: 'text' })
    const list = parseCompose('services:\n  web:\n    image: owlat/web:1.0.0\n    environment:\n      - A=1\n      - B=x=y\n      - INHERITED\n')
    expect(list.environment).toEqual({ A: '1', B: 'x=y' })
  })

  it('names what is missing or malformed', () => {
    expect(() => parseCompose('services:\n  db:\n    image: postgres:16\n')).toThrow('compose file is malformed: services.web')
    expect(() => parseCompose('services:\n  web:\n    environment: {}\n')).toThrow('services.web.image')
    expect(() => parseCompose('services: [unclosed\n')).toThrow('compose file is not valid YAML')
  })

  it('refuses alias bombs', () => {
    const bomb = [
      'a: &a ["x", "x", "x", "x", "x", "x", "x", "x", "x"]',
      'b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]',
      'c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]',
      'd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]',
      'services:',
      '  web:',
      '    image: owlat/web:1.0.0',
      '    environment:',
      '      BOMB: *d',
    ].join('\n')
    expect(() => parseCompose(bomb)).toThrow(/not valid YAML: .*alias/i)
  })
})
