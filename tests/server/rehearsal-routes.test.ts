/**
 * `POST /api/system/rehearsals` against the real stack (the updater as a subprocess with the local
 * driver, the built web, the demo releases), issue 16: who may ask and with what body, a rehearsal
 * opened as a run of kind `rehearsal` with the plan as the plan route gives it, one active run of
 * any kind, the report (steps with logs and times, the expected downtime, the migrations), the
 * installed version never changed, the broken beta failing on its copy without being marked
 * "failed here", a release that failed here rehearsed without "try again anyway", and a second
 * stack whose disk is too small refusing it up front with the figure.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { failedRehearsal, rehearsalFigures } from '../../shared/rehearsal'
import { isActiveStatus } from '../../shared/run-state'
import { historySchema, planSchema, runSchema, statusSchema, versionInfoSchema, type Plan, type Run } from '../../shared/schemas/api'
import { REHEARSAL_STEPS } from '../../shared/steps'
import { addRelease, ADMIN, MEMBER, startStack, waitFor, WEB, type Stack } from './stack'

async function login(email: string, password: string): Promise<string> {
  const res = await fetch(`${WEB}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password }) })
  expect(res.status).toBe(200)
  return res.headers.getSetCookie().map(c => c.split(';')[0]).join('; ')
}

/** What these tests read of an answer: a run id, an error's message and data. */
type Answer = { message: string, runId: string, data: { checks: Array<{ id: string, status: string, message: string }>, activeRunId?: string } }

async function call(method: string, path: string, cookie?: string, body?: unknown): Promise<{ status: number, body: Answer }> {
  const res = await fetch(`${WEB}${path}`, {
    method,
    headers: { accept: 'application/json', ...(cookie ? { cookie } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  })
  return { status: res.status, body: await res.json() as Answer }
}

async function runToEnd(runId: string, cookie: string): Promise<Run> {
  return waitFor(`run ${runId} to end`, async () => {
    const answer = await call('GET', `/api/system/updates/${runId}`, cookie)
    if (answer.status !== 200) return undefined
    const run = runSchema.parse(answer.body)
    return isActiveStatus(run.status) ? undefined : run
  }, 150_000)
}

/** The plan without what changes from one read to the next (free disk space, the index's age). */
function stable(plan: Plan) {
  const { checks, ...rest } = plan
  return { ...rest, checks: checks.map(c => ({ id: c.id, status: c.status })) }
}

describe('rehearsals on a healthy stack', () => {
  let stack: Stack
  let admin: string

  beforeAll(async () => {
    stack = await startStack()
    admin = await login(ADMIN.email, ADMIN.password)
    // A release that migrates data, so the report has a migration to show.
    addRelease(stack, '1.3.2', { migrations: { migratesData: true, rollbackFloor: '1.3.2' } })
    expect((await call('POST', '/api/system/releases/check', admin)).status).toBe(200)
  }, 240_000)

  afterAll(async () => {
    await stack?.stop()
  })

  async function history(): Promise<Run[]> {
    return historySchema.parse((await call('GET', '/api/system/history', admin)).body).runs
  }

  it('is for platform admins only and takes a known, newer target version and nothing else (401, 403, 400)', async () => {
    expect((await call('POST', '/api/system/rehearsals', undefined, { targetVersion: '1.3.0' })).status).toBe(401)
    const member = await login(MEMBER.email, MEMBER.password)
    expect((await call('POST', '/api/system/rehearsals', member, { targetVersion: '1.3.0' })).status).toBe(403)
    for (const body of [{}, { targetVersion: 'latest' }, { targetVersion: '1.3.0', retryFailed: true }, { targetVersion: '1.3.0', ignoreChecks: true, reason: 'x' }, { targetVersion: '9.9.9' }, { targetVersion: '1.2.2' }]) {
      const answer = await call('POST', '/api/system/rehearsals', admin, body)
      expect(answer.status, JSON.stringify(body)).toBe(400)
    }
    expect((await call('POST', '/api/system/rehearsals', admin, { targetVersion: '1.4.0-beta.1' })).body.message).toMatch(/switch the update channel to beta/)
    expect(await history()).toEqual([])
  })

  it('opens a rehearsal with the plan the plan route gives, refuses any other run meanwhile, and passes without touching the installed version', async () => {
    const planned = planSchema.parse((await call('GET', '/api/system/plan?targetVersion=1.3.2&kind=rehearsal', admin)).body)
    expect(planned).toMatchObject({ kind: 'rehearsal', fromVersion: '1.2.2', targetVersion: '1.3.2', migratesData: true, rollbackFloor: '1.3.2' })
    expect(planned.checks.find(c => c.id === 'free-disk')!.message).toMatch(/the rehearsal needs about/)

    const accepted = await call('POST', '/api/system/rehearsals', admin, { targetVersion: '1.3.2' })
    expect(accepted.status, accepted.body.message).toBe(202)
    const { runId } = accepted.body

    // One run of any kind at a time.
    const again = await call('POST', '/api/system/rehearsals', admin, { targetVersion: '1.3.0' })
    expect(again.status).toBe(409)
    expect(again.body.message).toMatch(/already in progress/)
    expect((await call('POST', '/api/system/updates', admin, { targetVersion: '1.3.0' })).status).toBe(409)

    const opened = runSchema.parse((await call('GET', `/api/system/updates/${runId}`, admin)).body)
    expect(opened).toMatchObject({ kind: 'rehearsal', fromVersion: '1.2.2', toVersion: '1.3.2', requestedBy: { email: ADMIN.email, via: 'web' } })
    expect(stable(opened.plan!)).toEqual(stable(planned))
    expect(opened.plan!.migrations[0]).toEqual({ version: '1.3.2', migratesData: true, rollbackFloor: '1.3.2' })
    expect(opened.plan!.migrations.map(m => m.version)).toEqual(['1.3.2', '1.3.1', '1.3.0', '1.2.3'])
    // While it runs, the status keeps the installed version and names the rehearsal as the active run.
    const during = statusSchema.parse((await call('GET', '/api/system/status', admin)).body)
    expect(during.currentVersion).toBe('1.2.2')

    const run = await runToEnd(runId, admin)
    expect(run.status, run.reason ?? '').toBe('succeeded')
    expect(run.reason).toMatch(/production stack was not touched/)
    // The report: every step of a rehearsal, each with its log and its time; nothing promoted or committed.
    expect(new Set(run.steps.map(s => s.name))).toEqual(new Set(REHEARSAL_STEPS))
    expect(run.steps.every(s => s.status === 'succeeded' || s.status === 'skipped')).toBe(true)
    expect(run.steps.find(s => s.name === 'recreate')!.log.join('\n')).toMatch(/on the copy/)
    const figures = rehearsalFigures(run)
    expect(figures.steps.filter(s => s.status === 'succeeded').every(s => s.durationMs !== null)).toBe(true)
    expect(figures.expectedDowntimeMs).toBeGreaterThan(0)
    expect(figures.totalMs).toBeGreaterThanOrEqual(figures.expectedDowntimeMs!)
    expect(run.plan).toEqual(opened.plan)

    // Production as it was: the installed version, the web's own, nothing to acknowledge or mark.
    expect(versionInfoSchema.parse((await call('GET', '/api/system/version', admin)).body).version).toBe('1.2.2')
    const after = statusSchema.parse((await call('GET', '/api/system/status', admin)).body)
    expect(after).toMatchObject({ currentVersion: '1.2.2', webVersion: '1.2.2', activeRun: null, unacknowledgedRun: null, failedReleases: [] })
    expect((await history())[0]).toMatchObject({ id: runId, kind: 'rehearsal', status: 'succeeded', plan: opened.plan })
  }, 200_000)

  it('fails the broken beta on its copy without marking it failed here; a release that failed here is rehearsed without "try again anyway"', async () => {
    expect((await call('PUT', '/api/system/settings', admin, { channel: 'beta' })).status).toBe(200)
    const accepted = await call('POST', '/api/system/rehearsals', admin, { targetVersion: '1.4.0-beta.1' })
    expect(accepted.status, accepted.body.message).toBe(202)
    const run = await runToEnd(accepted.body.runId, admin)
    expect(run).toMatchObject({ kind: 'rehearsal', status: 'failed' })
    expect(run.reason).toMatch(/the production stack was not touched/)
    expect(run.steps.find(s => s.name === 'verify')!.status).toBe('failed')
    expect(run.steps.find(s => s.name === 'teardown')!.status).toBe('succeeded')
    expect(rehearsalFigures(run).expectedDowntimeMs).toBeNull()
    // What the update dialog warns with: the latest rehearsal of the release failed.
    expect(failedRehearsal(await history(), '1.4.0-beta.1')?.id).toBe(run.id)
    const status = statusSchema.parse((await call('GET', '/api/system/status', admin)).body)
    expect(status).toMatchObject({ currentVersion: '1.2.2', failedReleases: [], unacknowledgedRun: null })

    // A real update to it fails and is restored: now it failed here, and is still rehearsed as asked.
    const update = await call('POST', '/api/system/updates', admin, { targetVersion: '1.4.0-beta.1' })
    expect(update.status, update.body.message).toBe(202)
    expect((await runToEnd(update.body.runId, admin)).status).toBe('rolled_back')
    expect((await call('POST', '/api/system/updates', admin, { targetVersion: '1.4.0-beta.1' })).status).toBe(400)
    const again = await call('POST', '/api/system/rehearsals', admin, { targetVersion: '1.4.0-beta.1' })
    expect(again.status, again.body.message).toBe(202)
    expect((await runToEnd(again.body.runId, admin))).toMatchObject({ kind: 'rehearsal', status: 'failed' })
    expect(versionInfoSchema.parse((await call('GET', '/api/system/version', admin)).body).version).toBe('1.2.2')
  }, 300_000)
})

describe('a rehearsal that cannot fit on the disk', () => {
  let stack: Stack
  let admin: string

  beforeAll(async () => {
    stack = await startStack({ env: { OWLAT_MIN_FREE_DISK_MB: String(1024 * 1024 * 1024) } })
    admin = await login(ADMIN.email, ADMIN.password)
  }, 240_000)

  afterAll(async () => {
    await stack?.stop()
  })

  it('is refused up front with the free-disk figure, and nothing is opened', async () => {
    const refused = await call('POST', '/api/system/rehearsals', admin, { targetVersion: '1.3.0' })
    expect(refused.status).toBe(409)
    expect(refused.body.message).toMatch(/^Failing checks stop this rehearsal: free-disk: .+ free of .+; the new images, the backup and the rehearsal's copy of the data \(.+\) need \d+(\.\d+)? [KMGTP]?i?B/)
    expect(refused.body.data.checks).toEqual(expect.arrayContaining([expect.objectContaining({ id: 'free-disk', status: 'fail' })]))
    expect(historySchema.parse((await call('GET', '/api/system/history', admin)).body).runs).toEqual([])
  })
})
