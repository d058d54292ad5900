/**
 * `GET /api/system/plan` and the gate of `POST /api/system/updates` against the real stack (the
 * updater as a subprocess with the local driver, the built web, the demo releases): the checklist,
 * the path through the demo's required stop (1.2.2 → 1.3.0 → 1.3.1), the images and the masked
 * compose diff; a failing check refused with 409 and its checks, and the override recorded with
 * its reason in the run, the history and the updater's job. A second stack runs a broken version
 * on a disk configured too small, so `services` and `free-disk` fail for real.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { demoCompose } from '../../scripts/bootstrap'
import { writeReleaseArtifacts } from '../../shared/release-artifacts'
import { historySchema, planSchema, runSchema, type Plan } from '../../shared/schemas/api'
import { addRelease, ADMIN, MEMBER, startStack, waitFor, WEB, type Stack } from './stack'

async function login(email: string, password: string): Promise<string> {
  const res = await fetch(`${WEB}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password }) })
  expect(res.status).toBe(200)
  return res.headers.getSetCookie().map(c => c.split(';')[0]).join('; ')
}

/** What these tests read of an answer: a plan or run (parsed), an error's message and data, a run id. */
type Answer = { message: string, runId: string, data: { checks: Array<{ id: string, status: string }> } }

async function call(method: string, path: string, cookie?: string, body?: unknown): Promise<{ status: number, body: Answer }> {
  const res = await fetch(`${WEB}${path}`, {
    method,
    headers: { accept: 'application/json', ...(cookie ? { cookie } : {}), ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  })
  return { status: res.status, body: await res.json() as Answer }
}

const statusOf = (plan: Plan) => Object.fromEntries(plan.checks.map(c => [c.id, c.status]))

describe('on a healthy stack', () => {
  let stack: Stack
  let admin: string

  beforeAll(async () => {
    stack = await startStack()
    admin = await login(ADMIN.email, ADMIN.password)
  }, 240_000)

  /** Reads the release folder again (the plan reads the cached list). */
  async function check(): Promise<void> {
    expect((await call('POST', '/api/system/releases/check', admin)).status).toBe(200)
  }

  afterAll(async () => {
    await stack?.stop()
  })

  it('is for platform admins only, and validates its query', async () => {
    expect((await call('GET', '/api/system/plan?targetVersion=1.3.0')).status).toBe(401)
    const member = await login(MEMBER.email, MEMBER.password)
    expect((await call('GET', '/api/system/plan?targetVersion=1.3.0', member)).status).toBe(403)
    expect((await call('GET', '/api/system/plan?targetVersion=latest', admin)).status).toBe(400)
    expect((await call('GET', '/api/system/plan?targetVersion=1.3.0&kind=sideways', admin)).status).toBe(400)
    expect((await call('GET', '/api/system/plan?targetVersion=9.9.9', admin)).status).toBe(400)
  })

  it('plans 1.3.1 through its required stop 1.3.0, with every check passing, the images and the compose diff', async () => {
    const res = await call('GET', '/api/system/plan?targetVersion=1.3.1&kind=update', admin)
    expect(res.status).toBe(200)
    const plan = planSchema.parse(res.body)
    expect(plan).toMatchObject({ kind: 'update', fromVersion: '1.2.2', targetVersion: '1.3.1', path: ['1.3.0', '1.3.1'], migratesData: false, rollbackFloor: null })
    expect(statusOf(plan)).toEqual({
      'updater': 'ok',
      'services': 'ok',
      'free-disk': 'ok',
      'host-versions': 'ok',
      'compose-policy': 'ok',
      'release-verifies': 'ok',
      'no-active-run': 'ok',
      'upgrade-path': 'ok',
      'release-index-fresh': 'ok',
    })
    expect(plan.checks.find(c => c.id === 'upgrade-path')!.message).toContain('1.3.0 → 1.3.1')
    expect(plan.images).toEqual([
      { service: 'web', from: 'ghcr.io/owlat/web:1.2.2', to: 'ghcr.io/owlat/web:1.3.1' },
      { service: 'updater', from: 'ghcr.io/owlat/updater:1.2.2', to: 'ghcr.io/owlat/updater:1.3.1' },
    ])
    expect(plan.composeDiff).toContain('--- docker-compose-1.2.2.yml')
    expect(plan.composeDiff).toContain('+++ docker-compose-1.3.1.yml')
    expect(plan.composeDiff).toMatch(/^-\s+image: ghcr\.io\/owlat\/web:1\.2\.2@sha256:[a-f0-9]{64}$/m)
    expect(plan.composeDiff).toMatch(/^\+\s+image: ghcr\.io\/owlat\/web:1\.3\.1@sha256:[a-f0-9]{64}$/m)
  })

  it('plans a rollback to its target alone, and a direct update without stops', async () => {
    const direct = planSchema.parse((await call('GET', '/api/system/plan?targetVersion=1.3.0', admin)).body)
    expect(direct.path).toEqual(['1.3.0'])
    addRelease(stack, '1.1.0')
    await check()
    const back = planSchema.parse((await call('GET', '/api/system/plan?targetVersion=1.1.0&kind=rollback', admin)).body)
    expect(back).toMatchObject({ kind: 'rollback', path: ['1.1.0'] })
  })

  it('masks the secrets of the compose diff', async () => {
    writeReleaseArtifacts({
      dir: stack.releaseDir,
      compose: demoCompose({ version: '1.3.6', webEnv: { NUXT_PUBLIC_API_TOKEN: 'tok_3f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c' } }),
      privateKey: readFileSync(join(stack.dataDir, 'keys', 'release-signing.pem'), 'utf8'),
      manifest: { version: '1.3.6', channel: 'stable', publishedAt: '2026-11-25T10:00:00Z', severity: 'normal', images: [], migrations: { migratesData: false, rollbackFloor: null }, notes: '' },
    })
    await check()
    const plan = planSchema.parse((await call('GET', '/api/system/plan?targetVersion=1.3.6', admin)).body)
    expect(plan.composeDiff).toMatch(/^\+\s+NUXT_PUBLIC_API_TOKEN: •+$/m)
    expect(plan.composeDiff).not.toContain('tok_3f9a8b7c6d5e')
  })

  it('fails a release that does not verify (never ignorable), and one that needs a newer updater; warns of an engine it cannot ask', async () => {
    const names = addRelease(stack, '1.3.5')
    addRelease(stack, '1.3.7', { requires: { updater: '99.0.0', engine: '24.0.0' } })
    await check()
    // Edited after the check listed it as verified: the plan judges the files as they are now.
    writeFileSync(join(stack.releaseDir, names.compose), `${readFileSync(join(stack.releaseDir, names.compose), 'utf8')}# edited after signing\n`)
    const broken = planSchema.parse((await call('GET', '/api/system/plan?targetVersion=1.3.5', admin)).body)
    expect(statusOf(broken)['release-verifies']).toBe('fail')
    expect(broken.checks.find(c => c.id === 'release-verifies')).toMatchObject({ ignorable: false, message: expect.stringMatching(/sha256/) })
    const refused = await call('POST', '/api/system/updates', admin, { targetVersion: '1.3.5', ignoreChecks: true, reason: 'trying' })
    expect(refused.status).toBe(400)
    const gated = planSchema.parse((await call('GET', '/api/system/plan?targetVersion=1.3.7', admin)).body)
    expect(statusOf(gated)).toMatchObject({ 'updater': 'fail', 'host-versions': 'warn' })
    expect(gated.checks.find(c => c.id === 'updater')!.message).toMatch(/the updater is 1\.2\.2; 1\.3\.7 needs updater 99\.0\.0 or newer/)
    expect(gated.checks.find(c => c.id === 'host-versions')!.message).toMatch(/cannot tell the version of the container engine/)
  })

  it('updates 1.2.2 to 1.3.1 as one run of two hops, through its required stop 1.3.0', async () => {
    const accepted = await call('POST', '/api/system/updates', admin, { targetVersion: '1.3.1' })
    expect(accepted.status, accepted.body.message).toBe(202)
    const opened = runSchema.parse((await call('GET', `/api/system/updates/${accepted.body.runId}`, admin)).body)
    expect(opened).toMatchObject({ fromVersion: '1.2.2', toVersion: '1.3.1', path: ['1.3.0', '1.3.1'] })
    const ended = await waitFor('the run to end', async () => {
      const r = runSchema.parse((await call('GET', `/api/system/updates/${accepted.body.runId}`, admin)).body)
      return r.status === 'queued' || r.status === 'running' ? undefined : r
    }, 120_000)
    expect(ended.status, ended.reason ?? '').toBe('succeeded')
    // Each hop verified, watched and committed in turn, on the updater's journal and in the run.
    expect(ended.steps.filter(s => s.name === 'commit').map(s => [s.hop, s.status, s.log])).toEqual([
      [0, 'succeeded', ['installed version is now 1.3.0 (was 1.2.2)']],
      [1, 'succeeded', ['installed version is now 1.3.1 (was 1.3.0)']],
    ])
    expect(historySchema.parse((await call('GET', '/api/system/history', admin)).body).runs[0]).toMatchObject({ id: accepted.body.runId, path: ['1.3.0', '1.3.1'] })
    const version = await waitFor('the web to answer 1.3.1', async () => {
      // The web restarts at each hop: a refused connection is the restart, not an answer.
      const res = await fetch(`${WEB}/api/system/version`, { headers: { cookie: admin } }).catch(() => null)
      const body = res?.ok ? await res.json() as { version: string } : null
      return body?.version === '1.3.1' ? body.version : undefined
    }, 30_000)
    expect(version).toBe('1.3.1')
  }, 180_000)

  it('refuses an update with a failing check (409 with the checks), then records the override and its reason', async () => {
    const before = historySchema.parse((await call('GET', '/api/system/history', admin)).body).runs.length
    const refused = await call('POST', '/api/system/updates', admin, { targetVersion: '1.3.7' })
    expect(refused.status).toBe(409)
    expect(refused.body.message).toMatch(/Failing checks stop this update: updater:/)
    expect(refused.body.data.checks).toEqual(expect.arrayContaining([expect.objectContaining({ id: 'updater', status: 'fail' })]))
    // Nothing was opened.
    expect(historySchema.parse((await call('GET', '/api/system/history', admin)).body).runs).toHaveLength(before)

    expect((await call('POST', '/api/system/updates', admin, { targetVersion: '1.3.7', ignoreChecks: true })).status).toBe(400)
    expect((await call('POST', '/api/system/updates', admin, { targetVersion: '1.3.7', ignoreChecks: true, reason: '   ' })).status).toBe(400)

    const reason = 'The updater image is pinned by our platform team; upgrading it next week.'
    const accepted = await call('POST', '/api/system/updates', admin, { targetVersion: '1.3.7', ignoreChecks: true, reason })
    expect(accepted.status).toBe(202)
    const override = { reason, checks: ['updater'] }
    const run = runSchema.parse((await call('GET', `/api/system/updates/${accepted.body.runId}`, admin)).body)
    expect(run.override).toEqual(override)
    const ended = await waitFor('the run to end', async () => {
      const r = runSchema.parse((await call('GET', `/api/system/updates/${accepted.body.runId}`, admin)).body)
      return r.status === 'queued' || r.status === 'running' ? undefined : r
    }, 90_000)
    expect(ended.status).toBe('succeeded')
    expect(ended.override).toEqual(override)
    // The updater's own preflight judged the checks again and logged the override.
    const preflight = ended.steps.find(s => s.name === 'preflight')!
    expect(preflight.log.join('\n')).toContain(`ignoring the failing checks updater, as ${ADMIN.email} asked: "${reason}"`)
    expect(historySchema.parse((await call('GET', '/api/system/history', admin)).body).runs[0]!.override).toEqual(override)
  })
})

describe('on a broken stack with too little disk', () => {
  let stack: Stack
  let admin: string

  beforeAll(async () => {
    stack = await startStack({
      env: { OWLAT_MIN_FREE_DISK_MB: String(1024 * 1024 * 1024) },
      unhealthy: true,
      prepare: dataDir => writeFileSync(join(dataDir, 'stack', 'docker-compose.yml'), demoCompose({ version: '1.2.2', webEnv: { OWLAT_DEMO_FAULT: 'unhealthy' } })),
    })
    admin = await login(ADMIN.email, ADMIN.password)
  }, 240_000)

  afterAll(async () => {
    await stack?.stop()
  })

  it('fails services and free-disk for an update; a rollback only warns of the unhealthy service', async () => {
    const plan = planSchema.parse((await call('GET', '/api/system/plan?targetVersion=1.3.0', admin)).body)
    expect(statusOf(plan)).toMatchObject({ 'services': 'fail', 'free-disk': 'fail' })
    expect(plan.checks.find(c => c.id === 'services')!.message).toBe('not healthy: web (unhealthy)')
    expect(plan.checks.find(c => c.id === 'free-disk')!.message).toMatch(/the new images and the backup need 1024\.0 GiB|need \d+/)
    addRelease(stack, '1.1.0')
    expect((await call('POST', '/api/system/releases/check', admin)).status).toBe(200)
    const back = planSchema.parse((await call('GET', '/api/system/plan?targetVersion=1.1.0&kind=rollback', admin)).body)
    expect(statusOf(back)).toMatchObject({ 'services': 'warn', 'free-disk': 'fail' })
  })
})
