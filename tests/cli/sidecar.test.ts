/**
 * `owlat` against a real updater sidecar (its own process, local driver, the fake web from
 * tests/fixtures) on a bootstrapped demo instance at 1.2.2.
 */
import { randomBytes } from 'node:crypto'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { execa } from 'execa'
import { stringify } from 'yaml'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { demoCompose, DEMO_RELEASES } from '../../scripts/bootstrap'
import { writeReleaseArtifacts } from '../../shared/release-artifacts'
import { REHEARSAL_OVERRIDE_REFUSED } from '../../shared/schemas/common'
import { SidecarClient } from '../../shared/sidecar-client'
import { Journal } from '../../sidecar/journal'
import { jobRequest } from '../sidecar/helpers'
import { cliHistory, cliStatus, runCli, spawnCli, startDemoUpdater, stderrLines, type DemoInstance, type UpdaterProcess } from './helpers'

describe('owlat against a real updater', () => {
  let demo: DemoInstance
  let env: Record<string, string>
  let updater: UpdaterProcess

  const status = () => cliStatus(env)
  const history = () => cliHistory(env)

  beforeAll(async () => {
    ({ demo, env, updater } = await startDemoUpdater())
  })

  afterAll(async () => {
    await updater?.stop()
  })

  it('doctor passes on the healthy demo (compose check skipped with a warning)', async () => {
    const result = await runCli(['doctor'], env)
    expect(result.exitCode, result.stdout + result.stderr).toBe(0)
    expect(result.stdout).toMatch(new RegExp(`^✔ ok +updater +reachable at http://127\\.0\\.0\\.1:${env.OWLAT_UPDATER_PORT}, secret accepted \\(Owlat 1\\.2\\.2, local driver\\)$`, 'm'))
    expect(result.stdout).toMatch(/^✔ ok +clock /m)
    expect(result.stdout).toMatch(/^- skip compose +skipped: the local driver/m)
    expect(result.stdout).toMatch(new RegExp(`^✔ ok +releases +${DEMO_RELEASES.length} release\\(s\\)`, 'm'))
    // The plan's checks for the newest release, through its required stop.
    expect(result.stdout).toMatch(/^plan for an update to 1\.3\.1 \(path 1\.2\.2 → 1\.3\.0 → 1\.3\.1\):$/m)
    for (const id of ['updater', 'services', 'free-disk', 'host-versions', 'compose-policy', 'release-verifies', 'no-active-run']) {
      expect(result.stdout).toMatch(new RegExp(`^✔ ok +${id} `, 'm'))
    }
    expect(result.stderr).toBe('')
  })

  it('doctor --bundle writes the bug-report set as one archive, with no secret in it', async () => {
    const secrets = {
      convexSecret: randomBytes(32).toString('hex'),
      adminKey: `owlat|${randomBytes(24).toString('hex')}`,
      session: randomBytes(24).toString('base64url'),
      redis: randomBytes(12).toString('hex'),
      smtp: randomBytes(10).toString('hex'),
    }
    writeFileSync(join(demo.owlatDir, '.env'), `CONVEX_ADMIN_KEY=${secrets.adminKey}\nNUXT_SESSION_PASSWORD=${secrets.session}\n`)
    writeFileSync(join(demo.owlatDir, 'docker-compose.yml'), stringify({
      services: {
        convex: { image: 'ghcr.io/get-convex/convex-backend:abc', environment: { INSTANCE_SECRET: secrets.convexSecret } },
        web: { image: 'ghcr.io/owlat/web:1.2.2', environment: { REDIS_URL: `redis://:${secrets.redis}@redis:6379`, NUXT_SESSION_PASSWORD: '${NUXT_SESSION_PASSWORD}', OWLAT_CONVEX_ADMIN_KEY: '${CONVEX_ADMIN_KEY}' } },
        mta: { image: 'ghcr.io/owlat/mta:1.2.2', command: ['mta', `--smtp-password=${secrets.smtp}`] },
      },
    }))
    const out = mkdtempSync(join(tmpdir(), 'owlat-bundle-test-'))
    try {
      const file = join(out, 'report.tar.gz')
      const result = await runCli(['doctor', '--bundle', file], env)
      expect(result.exitCode, result.stdout + result.stderr).toBe(0)
      expect(result.stdout).toContain(`bug-report bundle written to ${file} (secrets masked)`)
      await execa('tar', ['-xzf', file, '-C', out])
      const root = join(out, 'owlat-bundle')
      const names = readdirSync(root, { recursive: true }).map(String).sort()
      expect(names).toEqual(expect.arrayContaining(['doctor.txt', 'ps.txt', 'docker-compose.yml', 'runs.json', 'logs/web.txt']))
      expect(readFileSync(join(root, 'doctor.txt'), 'utf8')).toMatch(/^✔ ok +updater /m)
      expect(readFileSync(join(root, 'ps.txt'), 'utf8')).toMatch(/^web\t/m)
      expect(readFileSync(join(root, 'docker-compose.yml'), 'utf8')).toContain('INSTANCE_SECRET: ***masked***')
      const everything = names.filter(n => n.includes('.')).map(n => readFileSync(join(root, n), 'utf8')).join('\n')
      // The sidecar's own instance secret, and each secret this test set: none may be in the bundle.
      for (const secret of [demo.secret, ...Object.values(secrets)]) expect(everything).not.toContain(secret)
      const raw = (await execa('sh', ['-c', `gzip -dc ${file}`], { encoding: 'buffer' })).stdout
      for (const secret of [demo.secret, ...Object.values(secrets)]) expect(Buffer.from(raw).includes(secret)).toBe(false)
    }
    finally {
      rmSync(out, { recursive: true, force: true })
      rmSync(join(demo.owlatDir, '.env'), { force: true })
      rmSync(join(demo.owlatDir, 'docker-compose.yml'), { force: true })
    }
  })

  it('doctor fails with a wrong secret and names the check', async () => {
    const result = await runCli(['doctor'], { ...env, OWLAT_INSTANCE_SECRET: randomBytes(32).toString('hex') })
    expect(result.exitCode).toBe(1)
    expect(result.stdout).toMatch(/^✖ fail updater +the updater refused the instance secret: check OWLAT_INSTANCE_SECRET → /m)
    expect(stderrLines(result)).toEqual(['owlat: doctor: 1 check(s) failed: updater'])
  })

  it('status names the secret problem in one line with a wrong secret', async () => {
    const result = await runCli(['status'], { ...env, OWLAT_INSTANCE_SECRET: randomBytes(32).toString('hex') })
    expect(result.exitCode).toBe(1)
    expect(stderrLines(result)).toEqual(['owlat: the updater refused the instance secret: check OWLAT_INSTANCE_SECRET'])
  })

  it('upgrade without --yes and without a terminal changes nothing', async () => {
    const result = await runCli(['upgrade', '--version', '1.3.0'], env)
    expect(result.exitCode).toBe(2)
    expect(stderrLines(result)).toEqual(['owlat: no terminal to confirm on: pass --yes to proceed without asking'])
    expect((await status()).version).toBe('1.2.2')
  })

  it('upgrade --version 1.3.0 --yes follows the job live and exits 0', async () => {
    const result = await runCli(['upgrade', '--version', '1.3.0', '--yes'], env)
    expect(result.exitCode, result.stdout + result.stderr + updater.output()).toBe(0)
    expect(result.stdout).toMatch(/^Update: 1\.2\.2 → 1\.3\.0 \(stable, published 2026-11-01\)$/m)
    expect(result.stdout).toContain('segments can be scheduled')
    expect(result.stdout).toMatch(/^Job \S+ accepted: update 1\.2\.2 → 1\.3\.0\./m)
    const order = ['▸ Preflight checks…', '✔ Preflight checks', '▸ Verify new version…', '✔ Verify new version', '✔ Commit']
      .map(marker => result.stdout.indexOf(marker))
    expect(order.every(i => i >= 0)).toBe(true)
    expect([...order].sort((a, b) => a - b)).toEqual(order)
    expect(result.stdout).toMatch(/^ {2}verify │ /m)
    expect(result.stdout).toMatch(/Owlat now runs 1\.3\.0/)
    expect(result.stderr).toBe('')
  })

  it('status --json and history --json show it', async () => {
    const current = await status()
    expect(current.version).toBe('1.3.0')
    expect(current.driver).toBe('local')
    expect(current.activeJob).toBeNull()
    expect(current.services.find(s => s.name === 'web')).toMatchObject({ version: '1.3.0', health: 'healthy' })

    const [latest] = await history()
    expect(latest).toMatchObject({ kind: 'update', fromVersion: '1.2.2', toVersion: '1.3.0', status: 'succeeded', runId: null })
    expect(latest!.requestedBy.via).toBe('cli')
  })

  it('logs --job prints the finished job\'s steps and outcome', async () => {
    const [latest] = await history()
    const result = await runCli(['logs', '--job', latest!.id], env)
    expect(result.exitCode).toBe(0)
    expect(result.stdout).toMatch(/^✔ Commit/m)
    expect(result.stdout).toMatch(/^update 1\.2\.2 → 1\.3\.0 succeeded$/m)
  })

  it('upgrade without --version takes the newest release, 1.3.1, which installs over 1.3.0', async () => {
    const result = await runCli(['upgrade', '--yes'], env)
    expect(result.exitCode, result.stdout + result.stderr).toBe(0)
    expect(result.stdout).toMatch(/^Path: 1\.3\.0 → 1\.3\.1$/m)
    expect(result.stdout).toMatch(/Owlat now runs 1\.3\.1/)
    const again = await runCli(['upgrade', '--yes'], env)
    expect(again.stdout).toMatch(/Owlat 1\.3\.1 is up to date/)
  }, 180_000)

  it('rollback --version 1.2.2 goes back and exits 0', async () => {
    const result = await runCli(['rollback', '--version', '1.2.2'], env)
    expect(result.exitCode, result.stdout + result.stderr).toBe(0)
    expect(result.stdout).toMatch(/^Roll back: 1\.3\.1 → 1\.2\.2/m)
    expect((await status()).version).toBe('1.2.2')
    expect((await history())[0]).toMatchObject({ kind: 'rollback', fromVersion: '1.3.1', toVersion: '1.2.2', status: 'succeeded' })
  })

  it('upgrade shows the path through the required stop, and stops at a failing check unless ignored with a reason', async () => {
    // 1.3.9 needs an updater far newer than this one.
    writeReleaseArtifacts({
      dir: demo.releaseDir,
      compose: demoCompose({ version: '1.3.9' }),
      privateKey: readFileSync(join(demo.dataDir, 'keys', 'release-signing.pem'), 'utf8'),
      manifest: { version: '1.3.9', channel: 'stable', publishedAt: '2026-11-28T10:00:00Z', severity: 'normal', images: [], migrations: { migratesData: false, rollbackFloor: null }, minimumFrom: '1.3.1', requires: { updater: '99.0.0' }, notes: 'Needs a new updater.' },
    })
    try {
      await upgradeDespiteChecks()
    }
    finally {
      rmSync(join(demo.releaseDir, 'release-1.3.9.json'), { force: true })
    }
  }, 300_000)

  async function upgradeDespiteChecks(): Promise<void> {
    const refused = await runCli(['upgrade', '--version', '1.3.9', '--yes'], env)
    expect(refused.exitCode).toBe(1)
    expect(refused.stdout).toMatch(/^Path: 1\.2\.2 → 1\.3\.0 → 1\.3\.1 → 1\.3\.9 \(required upgrade stops: 1\.3\.0, 1\.3\.1\)$/m)
    expect(refused.stdout).toMatch(/^ {2}✖ fail updater +the updater is 1\.2\.2; 1\.3\.9 needs updater 99\.0\.0 or newer/m)
    expect(stderrLines(refused)).toEqual([expect.stringMatching(/^owlat: failing checks: updater: .*; nothing was changed \(fix them, or pass --ignore-checks --reason R\)$/)])
    expect((await status()).version).toBe('1.2.2')

    const noReason = await runCli(['upgrade', '--version', '1.3.9', '--yes', '--ignore-checks'], env)
    expect(noReason.exitCode).toBe(2)
    expect(noReason.stderr).toMatch(/--ignore-checks needs --reason R/)

    const reason = 'the updater is upgraded right after'
    // A rehearsal is never let through failing checks, with a reason or not.
    const before = (await history()).length
    const rehearsal = await runCli(['upgrade', '--rehearse', '--version', '1.3.9', '--yes', '--ignore-checks', '--reason', reason], env)
    expect(rehearsal.exitCode).toBe(1)
    const [said] = stderrLines(rehearsal)
    expect(said).toMatch(/^owlat: failing checks: updater: /)
    expect(said!.endsWith(`; ${REHEARSAL_OVERRIDE_REFUSED}; nothing was changed`)).toBe(true)
    expect((await history()).length).toBe(before)

    const ignored = await runCli(['upgrade', '--version', '1.3.9', '--yes', '--ignore-checks', '--reason', reason], env)
    expect(ignored.exitCode, ignored.stdout + ignored.stderr).toBe(0)
    expect(ignored.stdout).toContain(`Ignoring the failing checks updater: ${reason}`)
    const [job] = await history()
    // One run, one hop per version, each hop's steps printed under it.
    expect(job).toMatchObject({ toVersion: '1.3.9', path: ['1.3.0', '1.3.1', '1.3.9'], status: 'succeeded', override: { reason, checks: ['updater'] } })
    expect(ignored.stdout).toMatch(/^Hop 1 of 3: 1\.2\.2 → 1\.3\.0\n[\s\S]*^Hop 2 of 3: 1\.3\.0 → 1\.3\.1\n[\s\S]*^Hop 3 of 3: 1\.3\.1 → 1\.3\.9$/m)
    expect(job!.steps.filter(s => s.name === 'commit').map(s => s.log)).toEqual([
      ['installed version is now 1.3.0 (was 1.2.2)'], ['installed version is now 1.3.1 (was 1.3.0)'], ['installed version is now 1.3.9 (was 1.3.1)'],
    ])
    // The failing check is the last hop's (1.3.9 needs the newer updater): its preflight lets it pass, as asked.
    expect(job!.steps.filter(s => s.name === 'preflight').at(-1)!.log.join('\n')).toContain(`ignoring the failing checks updater`)

    const back = await runCli(['rollback', '--version', '1.2.2'], env)
    expect(back.exitCode, back.stdout + back.stderr).toBe(0)
  }

  it('rollback without --version finds no older release below the oldest', async () => {
    const result = await runCli(['rollback'], env)
    expect(result.exitCode).toBe(1)
    expect(stderrLines(result)).toEqual([`owlat: no verified release older than 1.2.2 in release folder ${demo.releaseDir}: pass --version or add the release's artifacts`])
  })

  it('Ctrl-C detaches from a running job, and logs --job follows it to the end', async () => {
    const child = spawnCli(['upgrade', '--version', '1.4.0-beta.1', '--yes'], env)
    // Interrupt once the (slow, failing) verification has started.
    child.stdout.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('Verify new version…')) child.kill('SIGINT')
    })
    const detached = await child
    expect(detached.exitCode, String(detached.stdout)).toBe(130)
    const line = stderrLines({ exitCode: 130, stdout: '', stderr: String(detached.stderr) })
    expect(line).toHaveLength(1)
    const match = /^owlat: detached from job (\S+), which keeps running: follow it again with owlat logs --job (\S+)$/.exec(line[0]!)
    expect(match?.[1]).toBeDefined()
    expect(match?.[2]).toBe(match?.[1])

    const followed = await runCli(['logs', '--job', match![1]!], env)
    expect(followed.exitCode).toBe(0)
    expect(followed.stdout).toMatch(/^✖ Verify new version/m)
    expect(followed.stdout).toMatch(/^✔ Verify restored version/m)
    expect(followed.stdout).toMatch(/^update 1\.2\.2 → 1\.4\.0-beta\.1 failed and 1\.2\.2 was restored: /m)
    expect((await history())[0]).toMatchObject({ id: match![1], status: 'rolled_back' })
    expect((await status()).version).toBe('1.2.2')
  })

  it('upgrade refuses a release that already failed here, unless --try-again (issue 13, defect 2)', async () => {
    const result = await runCli(['upgrade', '--version', '1.4.0-beta.1', '--yes'], env)
    expect(result.exitCode).toBe(1)
    expect(stderrLines(result)).toEqual([expect.stringMatching(/^owlat: cannot update to 1\.4\.0-beta\.1: it failed on this instance \d{4}-\d\d-\d\d \d\d:\d\d:\d\d \S+ \(rolled back: verify failed: .*\); pass --try-again to install it again anyway$/)])
    expect((await history())[0]).toMatchObject({ toVersion: '1.4.0-beta.1', status: 'rolled_back' })
  })

  it('upgrade --try-again installs it again, and on failure prints the cause, the web\'s own lines, what was restored and what to do (defect 3)', async () => {
    const result = await runCli(['upgrade', '--version', '1.4.0-beta.1', '--yes', '--try-again'], env)
    expect(result.exitCode).toBe(1)
    expect(result.stdout).toMatch(/^✖ 1\.4\.0-beta\.1 already failed on this instance .*\. Installing it again anyway \(--try-again\)\.$/m)
    expect(result.stdout).toMatch(/^Cause: Verify new version failed: web did not become healthy within/m)
    expect(result.stdout).toMatch(/^The last lines web 1\.4\.0-beta\.1 wrote:$/m)
    expect(result.stdout).toMatch(/^ {2}\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \S+ {2}fake web 1\.4\.0-beta\.1: health check failed \(OWLAT_DEMO_FAULT=unhealthy\)$/m)
    expect(result.stdout).toMatch(/^Restored: 1\.2\.2 was restored and answers healthy\.$/m)
    expect(result.stdout).toMatch(/^What to do now: Nothing else is needed now: 1\.2\.2 runs again\./m)
    expect(stderrLines(result)).toEqual([expect.stringMatching(/^owlat: update 1\.2\.2 → 1\.4\.0-beta\.1 failed and 1\.2\.2 was restored: .* \(details: owlat logs --job \S+\)$/)])
  })

  it('rollback --version refuses to go forward', async () => {
    const result = await runCli(['rollback', '--version', '1.3.0'], env)
    expect(result.exitCode).toBe(1)
    expect(stderrLines(result)).toEqual(['owlat: 1.3.0 is newer than the installed 1.2.2: use owlat upgrade --version 1.3.0'])
  })

  it('honours the rollback floor of a release that migrated data', async () => {
    // 1.5.0 migrates data and cannot go back past 1.3.0.
    writeReleaseArtifacts({
      dir: demo.releaseDir,
      compose: demoCompose({ version: '1.5.0' }),
      privateKey: readFileSync(join(demo.dataDir, 'keys', 'release-signing.pem'), 'utf8'),
      manifest: {
        version: '1.5.0',
        channel: 'stable',
        publishedAt: '2026-12-01T10:00:00Z',
        severity: 'security',
        images: [{ service: 'web', image: 'ghcr.io/owlat/web:1.5.0' }],
        migrations: { migratesData: true, rollbackFloor: '1.3.0' },
        notes: 'Migrates contacts.',
      },
    })
    const upgraded = await runCli(['upgrade', '--yes'], env)
    expect(upgraded.exitCode, upgraded.stdout + upgraded.stderr).toBe(0)
    expect(upgraded.stdout).toMatch(/^Update: 1\.2\.2 → 1\.5\.0 /m)
    expect(upgraded.stdout).toMatch(/^This is a security release\.$/m)
    expect(upgraded.stdout).toMatch(/^This release migrates data; it can roll back to 1\.3\.0 afterwards\.$/m)

    const refused = await runCli(['rollback', '--version', '1.2.3'], env)
    expect(refused.exitCode).toBe(1)
    expect(stderrLines(refused)).toEqual(['owlat: cannot roll back to 1.2.3: 1.5.0 migrated data and cannot roll back below 1.3.0'])
    // The updater refuses the same job for the same reason, from a client that did not ask first.
    const direct = new SidecarClient({ url: updater.url, secret: demo.secret })
    await expect(direct.createJob(jobRequest(demo.dataDir, '1.2.3', { kind: 'rollback' }))).rejects
      .toMatchObject({ status: 400, detail: '1.5.0 migrated data and cannot roll back below 1.3.0' })
    expect((await status()).version).toBe('1.5.0')

    // Without --version: the newest verified older release, which is above the floor.
    const rolledBack = await runCli(['rollback'], env)
    expect(rolledBack.exitCode, rolledBack.stdout + rolledBack.stderr).toBe(0)
    expect(rolledBack.stdout).toMatch(/^Roll back: 1\.5\.0 → 1\.3\.1 /m)
    expect((await status()).version).toBe('1.3.1')
  }, 180_000)

  it('upgrade --version to an older release rolls back, as the maintenance guide documents', async () => {
    const result = await runCli(['upgrade', '--version', '1.2.3', '--yes'], env)
    expect(result.exitCode, result.stdout + result.stderr).toBe(0)
    expect(result.stdout).toMatch(/^Roll back: 1\.3\.1 → 1\.2\.3 /m)
    expect((await history())[0]).toMatchObject({ kind: 'rollback', toVersion: '1.2.3', status: 'succeeded' })
  })

  it('logs SERVICE --tail N prints the service\'s last lines', async () => {
    const result = await runCli(['logs', 'web', '--tail', '5'], env)
    expect(result.exitCode, result.stderr).toBe(0)
    const lines = result.stdout.split('\n').filter(Boolean)
    expect(lines.length).toBeGreaterThan(0)
    expect(lines.length).toBeLessThanOrEqual(5)
  })

  it('logs SERVICE prints each line with its local time, zone and the version that wrote it (issue 13, defect 3)', async () => {
    const result = await runCli(['logs', 'web', '--tail', '50'], { ...env, TZ: 'UTC' })
    expect(result.exitCode, result.stderr).toBe(0)
    const lines = result.stdout.split('\n').filter(Boolean)
    expect(lines.length).toBeGreaterThan(0)
    for (const line of lines) expect(line).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC {2}\d+\.\d+\.\d+\S* +\S/)
    // The beta's own words, written by the beta, kept while newer versions ran after it.
    expect(result.stdout).toMatch(/ 1\.4\.0-beta\.1 +fake web 1\.4\.0-beta\.1: health check failed/)
    expect(result.stdout).toMatch(/ 1\.2\.3 +fake web 1\.2\.3 listening/)
  })

  it('history reads as text: statuses in words, local times with their zone (defect 9)', async () => {
    const result = await runCli(['history', '--limit', '20'], { ...env, TZ: 'America/New_York' })
    expect(result.exitCode, result.stderr).toBe(0)
    expect(result.stdout).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d E[SD]T {2}update 1\.2\.2 → 1\.4\.0-beta\.1 +rolled back {2}/m)
    expect(result.stdout).not.toContain('rolled_back')
    // A pipe gets plain text.
    expect(result.stdout).not.toContain('\u001B[')
  })

  it('logs --job takes the web run\'s id too, for jobs from before one id (defect 8)', async () => {
    const journal = new Journal(join(demo.dataDir, 'updater', 'journal.sqlite'))
    try {
      const job = journal.createJob({
        id: 'job-from-before', runId: 'web-run-from-before', kind: 'update', fromVersion: '1.2.2', toVersion: '1.3.0',
        requestedBy: { email: 'a@example.test', via: 'web' }, force: false, compose: demoCompose({ version: '1.3.0' }),
      }, Date.now() - 60 * 60_000)
      journal.setJobStatus(job.id, 'failed', 'dispatch never completed')
    }
    finally {
      journal.close()
    }
    const result = await runCli(['logs', '--job', 'web-run-from-before'], env)
    expect(result.exitCode, result.stderr).toBe(0)
    expect(result.stdout).toMatch(/^Job job-from-before: update 1\.2\.2 → 1\.3\.0/m)
    expect(result.stdout).toMatch(/^What to do now: /m)
    const unknown = await runCli(['logs', '--job', 'no-such-run'], env)
    expect(unknown.exitCode).toBe(1)
    expect(stderrLines(unknown)).toEqual(['owlat: no run or job no-such-run is known to the updater: see owlat history'])
  })

  it('logs for an unknown service says which services exist', async () => {
    const result = await runCli(['logs', 'nope'], env)
    expect(result.exitCode).toBe(1)
    expect(stderrLines(result)).toEqual([expect.stringMatching(/^owlat: the updater answered 404 to GET \/v1\/services\/nope\/logs\?tail=200: no service nope \(services: web\)$/)])
  })
})
