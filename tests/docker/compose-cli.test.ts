/** Compose CLI detection and the pid file that lets a restarted sidecar settle an orphaned command. */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { spawn } from 'node:child_process'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { ComposeCli, detectCompose } from '../../sidecar/drivers/compose-cli'
import { isAlive } from '../../sidecar/drivers/processes'
import { requireDocker, SKIP_DOCKER } from './stack'

describe.skipIf(SKIP_DOCKER)('compose CLI', () => {
  beforeAll(async () => {
    await requireDocker()
  })

  it('detects a compose CLI, and uses OWLAT_COMPOSE_CMD as an argument list when set', async () => {
    const detected = await detectCompose(undefined)
    expect(detected.argv).toEqual(detected.flavour === 'v2' ? ['docker', 'compose'] : ['docker-compose'])
    expect(detected.version).toMatch(/^\d+\.\d+\.\d+/)
    const configured = await detectCompose(' docker-compose ')
    expect(configured).toMatchObject({ argv: ['docker-compose'], flavour: 'v1' })
    await expect(detectCompose('docker-compose-does-not-exist --flag')).rejects.toThrow('OWLAT_COMPOSE_CMD="docker-compose-does-not-exist --flag" does not answer "docker-compose-does-not-exist --flag version"')
  })

  it('reports a failing command with its exit code and last lines, and clears its pid file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'owlatcli'))
    writeFileSync(join(dir, 'docker-compose.yml'), 'services:\n  web:\n    image: 127.0.0.1:5000/owlat/web:1.0.0\n    bogus_key: 1\n')
    const pidFile = join(dir, 'compose.pid')
    const cli = new ComposeCli({ command: await detectCompose(undefined), project: 'owlatcli', projectDir: dir, pidFile })
    const lines: string[] = []
    await expect(cli.run({ file: join(dir, 'docker-compose.yml'), args: ['config', '-q'], onLine: l => lines.push(l) }))
      .rejects.toThrow(/config -q exited with 1: .*bogus_key/)
    expect(lines.join('\n')).toContain('bogus_key')
    expect(() => readFileSync(pidFile)).toThrow()
  })

  it('ends a compose process a previous sidecar left running, but never an unrelated pid', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'owlatcli'))
    const pidFile = join(dir, 'compose.pid')
    const cli = new ComposeCli({ command: await detectCompose(undefined), project: 'owlatcli', projectDir: dir, pidFile })
    // An unrelated process whose pid was recycled into a stale pid file.
    const bystander = spawn('sleep', ['60'], { stdio: 'ignore' })
    writeFileSync(pidFile, `${bystander.pid}\n`)
    expect(await cli.settleOrphan(100)).toBeNull()
    expect(isAlive(bystander.pid!)).toBe(true)
    bystander.kill()
    // A process whose command line names compose, that does not finish by itself.
    const orphan = spawn('sleep', ['60'], { stdio: 'ignore', argv0: 'docker-compose' })
    expect(readFileSync(`/proc/${orphan.pid}/cmdline`, 'utf8')).toContain('docker-compose')
    writeFileSync(pidFile, `${orphan.pid}\n`)
    expect(await cli.settleOrphan(100)).toBe(`ended compose process ${orphan.pid} left by a previous updater (SIGTERM)`)
    expect(isAlive(orphan.pid!)).toBe(false)
  })
})
