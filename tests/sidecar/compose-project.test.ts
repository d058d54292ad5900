/** The compose driver's reading of compose files: the operator's override merged as compose merges it. */
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { fileArgs, OVERRIDE_FILE, overrideFile } from '../../sidecar/drivers/compose-cli'
import { defaultServices, parseComposeModel, withOverride } from '../../sidecar/drivers/compose-project'

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
    expect(model.services.get('convex')).toEqual({ image: 'registry.local/stand-in/convex:1', profiles: [] })
    expect(model.services.get('web')).toEqual({ image: 'ghcr.io/owlat/web:1.3.0', profiles: [] })
    expect(model.services.get('convex-deploy')).toEqual({ image: 'ghcr.io/owlat/convex-deploy:1.3.0', profiles: ['deploy'] })
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
