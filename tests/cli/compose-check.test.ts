import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { stringify } from 'yaml'
import { runCli, stderrLines } from './helpers'

describe('owlat compose check', () => {
  let dir: string
  let env: Record<string, string>
  const write = (name: string, doc: unknown) => {
    const path = join(dir, name)
    writeFileSync(path, typeof doc === 'string' ? doc : stringify(doc))
    return path
  }

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'owlat-compose-check-'))
    env = { OWLAT_DIR: dir }
  })

  it('prints ok and exits 0 for a file that passes', async () => {
    const file = write('ok.yml', { services: { web: { image: 'ghcr.io/owlat/web:1.3.0', volumes: ['./data:/data'] } } })
    const result = await runCli(['compose', 'check', file], env)
    expect(result).toMatchObject({ exitCode: 0, stdout: 'ok', stderr: '' })
  })

  it('prints one line per violation and exits 1', async () => {
    const file = write('bad.yml', {
      services: {
        web: { image: 'evil.example.com/web:1', privileged: true },
        worker: { image: 'ghcr.io/owlat/worker:1', volumes: ['/var/run/docker.sock:/var/run/docker.sock'] },
      },
    })
    const result = await runCli(['compose', 'check', file], env)
    expect(result.exitCode).toBe(1)
    expect(result.stdout.split('\n')).toEqual([
      expect.stringMatching(/^service web: image "evil\.example\.com\/web:1" is not from an allowed registry/),
      expect.stringMatching(/^service web: privileged mode/),
      expect.stringMatching(/^service worker: bind mount mounts the Docker socket/),
    ])
    expect(stderrLines(result)).toEqual([`owlat: ${file} breaks the compose policy in 3 place(s)`])
  })

  it('resolves relative binds against the file\'s folder', async () => {
    const file = write('escape.yml', { services: { web: { image: 'ghcr.io/owlat/web:1', volumes: ['../../../etc:/x'] } } })
    const result = await runCli(['compose', 'check', file], env)
    expect(result.exitCode).toBe(1)
    expect(result.stdout).toMatch(/mounts host path \/etc,/)
  })

  it('adds --allow-image and --allow-bind (repeatable) to the allowed lists', async () => {
    const file = write('mirror.yml', {
      services: { web: { image: 'registry.example.com/mirror/web:1', volumes: ['/srv/mail:/mail', '/srv/spool:/spool'] } },
    })
    expect((await runCli(['compose', 'check', file], env)).exitCode).toBe(1)
    const result = await runCli(['compose', 'check', file, '--allow-image', 'registry.example.com/mirror/', '--allow-bind', '/srv/mail', '--allow-bind', '/srv/spool'], env)
    expect(result).toMatchObject({ exitCode: 0, stdout: 'ok' })
  })

  it('takes the allowed lists from OWLAT_ALLOWED_IMAGE_PREFIXES and OWLAT_ALLOWED_BIND_PREFIXES', async () => {
    const file = write('env.yml', { services: { web: { image: 'registry.example.com/mirror/web:1', volumes: ['/srv/mail:/mail'] } } })
    const result = await runCli(['compose', 'check', file], {
      ...env,
      OWLAT_ALLOWED_IMAGE_PREFIXES: 'registry.example.com/mirror/',
      OWLAT_ALLOWED_BIND_PREFIXES: '/srv/mail,.',
    })
    expect(result).toMatchObject({ exitCode: 0, stdout: 'ok' })
  })

  it('reads OWLAT_DIR/.env, with the environment winning', async () => {
    const file = write('dotenv.yml', { services: { web: { image: 'registry.example.com/mirror/web:1' } } })
    const project = mkdtempSync(join(tmpdir(), 'owlat-project-'))
    writeFileSync(join(project, '.env'), '# installer\nOWLAT_ALLOWED_IMAGE_PREFIXES="registry.example.com/mirror/"\n')
    expect((await runCli(['compose', 'check', file], { OWLAT_DIR: project })).exitCode).toBe(0)
    expect((await runCli(['compose', 'check', file], { OWLAT_DIR: project, OWLAT_ALLOWED_IMAGE_PREFIXES: 'ghcr.io/owlat/' })).exitCode).toBe(1)
  })

  it('reports a YAML bomb as a violation, not a crash', async () => {
    const file = write('bomb.yml', [
      'a: &a ["x","x","x","x","x","x","x","x","x"]',
      'b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]',
      'c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]',
      'd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]',
      'services: {web: {image: "ghcr.io/owlat/web:1"}}',
    ].join('\n'))
    const result = await runCli(['compose', 'check', file], env)
    expect(result.exitCode).toBe(1)
    expect(result.stdout).toMatch(/alias count/)
    expect(stderrLines(result)).toHaveLength(1)
  })

  it('says so in one line when the file does not exist', async () => {
    const result = await runCli(['compose', 'check', join(dir, 'missing.yml')], env)
    expect(result.exitCode).toBe(1)
    expect(stderrLines(result)).toEqual([`owlat: no such file: ${join(dir, 'missing.yml')}`])
  })
})
