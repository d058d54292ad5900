/**
 * The plan's checks (shared/node/checks/plan.ts): each `fail` and `warn` produced from facts
 * gathered for real where this machine has them — the free disk statfs reports against a need set
 * by configuration, the engine's version as the engine reports it, the compose policy and the
 * signature on real artifacts — and from the updater's health as the sidecar reports it. The
 * same facts through the web's plan route are tests/server/plan-routes.test.ts.
 */
import { generateKeyPairSync } from 'node:crypto'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Docker from 'dockerode'
import { describe, expect, it } from 'vitest'
import { checkComposePolicy, describePolicyViolations } from '../../shared/compose-policy'
import { checkFreeDisk, checkHostVersions, checkNoActiveRun, checkPolicy, checkServices, checkUpdater, checkVerification, diskFacts, failingChecks, looseVersion, PLAN_CHECK_IDS, planChecks, askStackChecks, stackPlanChecks, type PlanFacts } from '../../shared/node/checks/plan'
import { fail, ok, skip } from '../../shared/node/checks/types'
import { SidecarRejectedError, SidecarUnreachableError } from '../../shared/sidecar-client'
import { artifactNames, writeReleaseArtifacts } from '../../shared/release-artifacts'
import { verifyRelease } from '../../shared/release-verify'
import type { HostFacts, ServiceHealth, SidecarHealth } from '../../shared/schemas/job'

const GiB = 1024 ** 3
const web = (health: ServiceHealth['health'], state = 'running'): ServiceHealth => ({ name: 'web', image: 'ghcr.io/owlat/web:1.3.0', version: '1.3.0', state, health })

function facts(over: Partial<PlanFacts> = {}, host: Partial<HostFacts> | null = {}, services: ServiceHealth[] = [web('healthy')]): PlanFacts {
  const health: SidecarHealth = {
    version: '1.3.0',
    driver: 'local',
    services,
    backups: { supported: false, reason: 'local' },
    rehearsals: { supported: true, reason: null },
    host: host === null ? null : { updater: '1.3.0', engine: null, compose: null, disk: { path: '/data', freeBytes: 50 * GiB, totalBytes: 100 * GiB, needBytes: GiB }, ...host },
    indexSerial: null,
  }
  return { kind: 'update', targetVersion: '1.4.0', updater: { ok: true, health }, requires: {}, verification: { ok: true }, policy: { ok: true }, active: null, ...over }
}

describe('planChecks', () => {
  it('lists every check, in order, all ok on a healthy host', () => {
    const checks = planChecks(facts())
    expect(checks.map(c => c.id)).toEqual([...PLAN_CHECK_IDS])
    expect(checks.every(c => c.status === 'ok' && c.blocking)).toBe(true)
    expect(failingChecks(checks)).toEqual([])
  })
})

describe('free-disk', () => {
  it('fails when the free space statfs reports is below the configured need, and warns when little would be left', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'owlat-plan-disk-'))
    const measured = (await diskFacts(dir, 0, 0))!
    expect(measured.freeBytes).toBeGreaterThan(0)
    // OWLAT_MIN_FREE_DISK_MB above what is free.
    const tooMuch = (await diskFacts(dir, 0, Math.ceil(measured.freeBytes / 1024 / 1024) + 1024))!
    const failed = checkFreeDisk(facts({}, { disk: tooMuch }))
    expect(failed).toMatchObject({ status: 'fail', blocking: true })
    expect(failed.message).toMatch(/the new images and the backup need/)
    // An estimate leaving less than a tenth of the disk free.
    const almost = (await diskFacts(dir, measured.freeBytes - measured.totalBytes * 0.05, 0))!
    expect(checkFreeDisk(facts({}, { disk: almost })).status).toBe('warn')
    expect(checkFreeDisk(facts({}, { disk: measured })).status).not.toBe('fail')
  })

  it('counts a rehearsal\'s copy of the data: it fits for the update and not for the rehearsal', () => {
    const GiB = 1024 ** 3
    const disk = { path: '/var/lib', freeBytes: 10 * GiB, totalBytes: 50 * GiB, needBytes: 2 * GiB, copyBytes: 9 * GiB }
    const update = checkFreeDisk(facts({}, { disk }))
    expect(update.status).toBe('ok')
    expect(update.message).toContain('a rehearsal first needs 11.0 GiB (a copy of the data)')
    const rehearsal = checkFreeDisk(facts({ kind: 'rehearsal' }, { disk }))
    expect(rehearsal).toMatchObject({ status: 'fail', blocking: true })
    expect(rehearsal.message).toBe('10.0 GiB free of 50.0 GiB in /var/lib; the new images, the backup and the rehearsal\'s copy of the data (9.0 GiB) need 11.0 GiB')
  })

  it('warns when the updater does not report its disk, and fails when it does not answer', () => {
    expect(checkFreeDisk(facts({}, { disk: null })).status).toBe('warn')
    expect(checkFreeDisk(facts({ updater: { ok: false, error: 'connect ECONNREFUSED' } })).status).toBe('fail')
  })
})

describe('host-versions', () => {
  it('fails a release that asks for a newer engine than the real one, and passes one it meets', async () => {
    const docker = new Docker()
    const engine = (await docker.version()).Version
    expect(looseVersion(engine)).not.toBeNull()
    const failed = checkHostVersions(facts({ requires: { engine: '999.0.0' } }, { engine }))
    expect(failed).toMatchObject({ status: 'fail', blocking: true })
    expect(failed.message).toContain(`the container engine is ${engine}; 1.4.0 needs 999.0.0 or newer`)
    expect(checkHostVersions(facts({ requires: { engine: '1.0.0' } }, { engine })).status).toBe('ok')
  })

  it('fails an old compose, warns where the driver runs no engine to ask, and is ok when nothing is asked', () => {
    expect(checkHostVersions(facts({ requires: { compose: '2.20.0' } }, { compose: 'v2.12.2' })).status).toBe('fail')
    expect(checkHostVersions(facts({ requires: { compose: '2.20.0' } }, { compose: '1.29.2, build 5becea4c' })).status).toBe('fail')
    expect(checkHostVersions(facts({ requires: { engine: '24.0.0' } }, { engine: null })).status).toBe('warn')
    expect(checkHostVersions(facts({ requires: {} })).status).toBe('ok')
    expect(checkHostVersions(facts({ requires: null })).status).toBe('warn')
  })
})

describe('updater', () => {
  it('fails when it does not answer or is older than the release needs, warns when it cannot say', () => {
    expect(checkUpdater(facts({ updater: { ok: false, error: 'connect ECONNREFUSED 127.0.0.1:3200' } }))).toMatchObject({ status: 'fail', message: expect.stringContaining('ECONNREFUSED') })
    expect(checkUpdater(facts({ requires: { updater: '1.5.0' } }, { updater: '1.3.0' })).status).toBe('fail')
    expect(checkUpdater(facts({ requires: { updater: '1.3.0' } }, { updater: '1.3.0' })).status).toBe('ok')
    expect(checkUpdater(facts({}, null)).status).toBe('warn')
    expect(checkUpdater(facts({ requires: { updater: '1.3.0' } }, null)).status).toBe('fail')
  })
})

describe('services', () => {
  it('fails an unhealthy or stopped service for an update, only warns for a rollback, and warns while one starts', () => {
    expect(checkServices(facts({}, {}, [web('unhealthy')]))).toMatchObject({ status: 'fail', message: 'not healthy: web (unhealthy)' })
    expect(checkServices(facts({}, {}, [web('none', 'exited')])).status).toBe('fail')
    expect(checkServices(facts({ kind: 'rollback' }, {}, [web('unhealthy')])).status).toBe('warn')
    expect(checkServices(facts({}, {}, [web('starting', 'starting')])).status).toBe('warn')
    expect(checkServices(facts({}, {}, [])).status).toBe('fail')
  })
})

describe('compose-policy and release-verifies', () => {
  const keys = generateKeyPairSync('ed25519')
  const publicKey = keys.publicKey.export({ type: 'spki', format: 'pem' }).toString()

  it('fail on a real compose file the policy refuses and on artifacts whose compose was edited after signing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'owlat-plan-release-'))
    const compose = 'services:\n  web:\n    image: ghcr.io/owlat/web:1.4.0\n    volumes:\n      - /var/run/docker.sock:/var/run/docker.sock\n'
    writeReleaseArtifacts({ dir, compose, privateKey: keys.privateKey, manifest: { version: '1.4.0', channel: 'stable', publishedAt: '2026-12-01T10:00:00Z', severity: 'normal', images: [], migrations: { migratesData: false, rollbackFloor: null }, notes: '' } })
    const policy = checkComposePolicy(compose, { projectDir: dir })
    expect(policy.ok).toBe(false)
    const refused = checkPolicy(facts({ policy: { ok: false, reason: policy.ok ? '' : describePolicyViolations(policy.violations) } }))
    expect(refused).toMatchObject({ status: 'fail' })
    expect(refused.message).toMatch(/docker\.sock/)

    const names = artifactNames('1.4.0')
    writeFileSync(join(dir, names.compose), `${compose}# edited\n`)
    const verified = verifyRelease({ manifestBytes: readFileSync(join(dir, names.manifest)), signature: readFileSync(join(dir, names.signature), 'utf8'), compose: readFileSync(join(dir, names.compose), 'utf8'), expectedVersion: '1.4.0' }, publicKey)
    expect(verified.ok).toBe(false)
    const unverified = checkVerification(facts({ verification: verified.ok ? { ok: true } : { ok: false, reason: verified.reason } }))
    expect(unverified.status).toBe('fail')
    expect(unverified.message).toMatch(/sha256/)
  })
})

describe('no-active-run', () => {
  it('fails while a run is in progress', () => {
    expect(checkNoActiveRun(facts({ active: { id: 'r1', kind: 'update', toVersion: '1.3.0' } }))).toMatchObject({ status: 'fail', message: 'update r1 to 1.3.0 is still in progress' })
  })
})

describe('the updater\'s stack checks in a plan', () => {
  const volume = fail('convex-data-volume', 'convex: /convex/data is on no volume', 'put it on a named volume', true)
  const rotation = fail('log-rotation', 'web has no max-size', 'set logging.options.max-size')
  const dns = skip('dns', 'no network here')

  it('keeps a blocking failure as one no override lets through, makes any other failure a warning, drops what could not run', () => {
    const { checks, refusing } = stackPlanChecks({ ok: true, checks: [volume, rotation, dns, ok('redis-aof', 'AOF is on')] })
    expect(checks.map(c => [c.id, c.status])).toEqual([['convex-data-volume', 'fail'], ['log-rotation', 'warn'], ['redis-aof', 'ok']])
    expect(refusing).toEqual(['convex-data-volume'])
  })

  it('adds nothing for a driver that runs no stack checks, and one warning for an updater that cannot judge', async () => {
    expect(stackPlanChecks({ ok: true, checks: null })).toEqual({ checks: [], refusing: [] })
    const old = await askStackChecks({ stackChecks: () => Promise.reject(new SidecarRejectedError(404, 'no route /v1/checks')) }, 'services: {}\n')
    expect(stackPlanChecks(old)).toEqual({ checks: [expect.objectContaining({ id: 'stack-checks', status: 'warn', message: expect.stringMatching(/too old to judge the stack/) })], refusing: [] })
    const down = await askStackChecks({ stackChecks: () => Promise.reject(new SidecarUnreachableError('http://127.0.0.1:1', 'ECONNREFUSED')) }, 'services: {}\n')
    expect(stackPlanChecks(down).checks[0]!.message).toMatch(/did not judge the stack: updater unreachable at .*ECONNREFUSED/)
    expect(await askStackChecks({ stackChecks: async () => [volume] }, 'services: {}\n')).toEqual({ ok: true, checks: [volume] })
  })
})
