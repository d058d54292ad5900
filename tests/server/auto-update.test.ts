/**
 * Automatic updates and notifications on a real stack (issue 17): the web with its scheduler
 * ticking every second and the updater with the local driver, a webhook receiver and an SMTP sink
 * on loopback. The maintenance window is set relative to the real clock (open now, or on another
 * day), and the demo's release folder is cut down to 1.2.3 (a patch release) plus the releases
 * each case adds: one whose plan fails a check, one whose web never becomes healthy.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { demoCompose } from '../../scripts/bootstrap'
import { artifactNames, writeReleaseArtifacts } from '../../shared/release-artifacts'
import { WEEK_DAYS } from '../../shared/auto-update'
import { historySchema, scheduleAnswerSchema, type Run } from '../../shared/schemas/api'
import { notificationSchema, type Notification } from '../../shared/notifications'
import { startSmtpSink, startWebhookReceiver, type SmtpSink, type WebhookReceiver } from '../notify/receivers'
import { freePort } from '../setup/ports'
import { addRelease, ADMIN, cleanEnv, createUserViaScript, ROOT, startStack, UPDATER_PORT, waitFor, WEB, withoutDemoRelease, type Stack } from './stack'

const SECRET = 'webhook-secret-for-the-tests-0123456789'
const QUIET = { email: 'quiet-admin@example.com', password: 'quiet-password-1' }

let stack: Stack
let hooks: WebhookReceiver
let smtp: SmtpSink
let admin: string

const notifyEnv = () => ({ OWLAT_SCHEDULE_TICK_MS: '1000', OWLAT_WEBHOOK_URLS: hooks.url, OWLAT_WEBHOOK_SECRET: SECRET, OWLAT_SMTP_URL: smtp.url })

/**
 * A second web replica on the same store and updater (what several web containers on one Convex
 * deployment are), running 1.2.2 as the stack's web does: its own scheduler and outbox.
 */
async function startReplica(): Promise<ChildProcess> {
  const port = await freePort()
  const child = spawn(process.execPath, ['.output/server/index.mjs'], {
    cwd: ROOT,
    env: { ...cleanEnv(), ...notifyEnv(), PORT: String(port), OWLAT_DATA_DIR: stack.dataDir, OWLAT_UPDATER_PORT: String(UPDATER_PORT), OWLAT_VERSION: '1.2.2' },
    stdio: 'ignore',
  })
  await waitFor('the replica to answer', async () => {
    const res = await fetch(`http://127.0.0.1:${port}/api/healthz`).catch(() => null)
    return res?.status === 200 ? true : undefined
  })
  return child
}

async function login(email: string, password: string): Promise<string> {
  const res = await fetch(`${WEB}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json', 'accept': 'application/json' }, body: JSON.stringify({ email, password }) })
  expect(res.status).toBe(200)
  return res.headers.getSetCookie().map(c => c.split(';')[0]).join('; ')
}

async function call(method: string, path: string, cookie: string, body?: unknown): Promise<{ status: number, body: unknown }> {
  const res = await fetch(`${WEB}${path}`, {
    method,
    headers: { accept: 'application/json', cookie, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  })
  return { status: res.status, body: await res.json() }
}

/** Answers while the web restarts are retried: runs restart it. */
async function history(): Promise<Run[]> {
  return waitFor('the history', async () => {
    try {
      const answer = await call('GET', '/api/system/history', admin)
      return answer.status === 200 ? historySchema.parse(answer.body).runs : undefined
    }
    catch {
      return undefined
    }
  })
}

function delivered(): Notification[] {
  return hooks.received.filter(h => h.status === 200).map(h => notificationSchema.parse(h.body))
}

const today = () => WEEK_DAYS[(new Date().getUTCDay() + 6) % 7]!
const hhmm = (at: number) => new Date(at).toISOString().slice(11, 16)

beforeAll(async () => {
  hooks = await startWebhookReceiver(SECRET)
  smtp = await startSmtpSink()
  stack = await startStack({
    env: notifyEnv(),
    prepare: (dataDir) => {
      for (const version of ['1.3.0', '1.3.1']) withoutDemoRelease(version)(dataDir)
      const quiet = createUserViaScript(dataDir, ['--email', QUIET.email, '--password', QUIET.password, '--role', 'platform-admin'])
      if (quiet.status !== 0) throw new Error(quiet.stderr)
    },
  })
  admin = await login(ADMIN.email, ADMIN.password)
  const quiet = await login(QUIET.email, QUIET.password)
  expect((await call('PUT', '/api/system/notifications/preference', quiet, { notifications: 'none' })).body).toEqual({ notifications: 'none' })
}, 300_000)

afterAll(async () => {
  await stack?.stop()
  await hooks?.close()
  await smtp?.close()
})

describe('the scheduler', () => {
  it('does nothing outside the window, and says when the next automatic update comes and why', async () => {
    const tomorrow = WEEK_DAYS[(WEEK_DAYS.indexOf(today()) + 1) % 7]!
    const put = await call('PUT', '/api/system/settings', admin, { autoUpdate: 'patch', maintenanceWindow: { days: [tomorrow], start: '00:00', durationMinutes: 60, timeZone: 'UTC' } })
    expect(put.status).toBe(200)
    await new Promise(resolve => setTimeout(resolve, 3_500))
    expect(await history()).toEqual([])
    const schedule = scheduleAnswerSchema.parse((await call('GET', '/api/system/schedule', admin)).body)
    expect(schedule.plan).toMatchObject({ kind: 'scheduled', version: '1.2.3' })
    expect(schedule.text).toMatch(/^1\.2\.3 on \w+day 00:00 UTC, patch release$/)
  })

  it('skips a release whose plan fails a check, without override, and tells the webhook which checks', async () => {
    addRelease(stack, '1.2.5', { requires: { updater: '99.0.0' } })
    expect((await call('POST', '/api/system/releases/check', admin)).status).toBe(200)
    const now = Date.now()
    await call('PUT', '/api/system/settings', admin, { maintenanceWindow: { days: [...WEEK_DAYS], start: hhmm(now - 10 * 60_000), durationMinutes: 120, timeZone: 'UTC' } })
    const skipped = await waitFor('auto-update-skipped', async () => delivered().find(n => n.event === 'auto-update-skipped'), 30_000)
    expect(skipped.data).toMatchObject({ version: '1.2.5', currentVersion: '1.2.2' })
    expect(skipped.event === 'auto-update-skipped' && skipped.data.checks).toEqual(expect.arrayContaining([expect.objectContaining({ id: 'updater', status: 'fail' })]))
    expect(await history()).toEqual([])
    // The release goes away: the scheduler moves on to what it may install.
    await call('PUT', '/api/system/settings', admin, { pausedUntil: Date.now() + 60 * 60_000 })
    for (const file of Object.values(artifactNames('1.2.5'))) rmSync(join(stack.releaseDir, file), { force: true })
    expect((await call('POST', '/api/system/releases/check', admin)).status).toBe(200)
    const paused = scheduleAnswerSchema.parse((await call('GET', '/api/system/schedule', admin)).body)
    expect(paused).toMatchObject({ plan: { kind: 'paused', by: ADMIN.email, version: '1.2.3' }, pausedBy: ADMIN.email })
  })

  it('installs inside the window as the schedule (one of two replicas starts it), never retries a release that was rolled back, and goes on to the next one', async () => {
    // 1.2.4 is the newest patch release, and its web never becomes healthy.
    writeReleaseArtifacts({
      dir: stack.releaseDir,
      compose: demoCompose({ version: '1.2.4', webEnv: { OWLAT_DEMO_FAULT: 'unhealthy' } }),
      privateKey: readFileSync(join(stack.dataDir, 'keys', 'release-signing.pem'), 'utf8'),
      manifest: { version: '1.2.4', channel: 'stable', publishedAt: '2026-11-20T10:00:00Z', severity: 'normal', images: [], migrations: { migratesData: false, rollbackFloor: null }, notes: '' },
    })
    expect((await call('POST', '/api/system/releases/check', admin)).status).toBe(200)
    const replica = await startReplica()
    try {
      // Both replicas see 1.2.4 due from the same tick on: one of them starts it.
      await call('PUT', '/api/system/settings', admin, { pausedUntil: null })
      await waitFor('the run to 1.2.4', async () => (await history()).find(r => r.toVersion === '1.2.4'), 30_000)
      await new Promise(resolve => setTimeout(resolve, 2_500))
    }
    finally {
      // It would go on believing it runs 1.2.2 (its version is pinned): it leaves once it showed the claim.
      const exited = new Promise(resolve => replica.once('exit', resolve))
      replica.kill('SIGTERM')
      await exited
    }

    const done = await waitFor('1.2.3 installed by the schedule', async () => {
      const runs = await history()
      return runs.find(r => r.toVersion === '1.2.3' && r.status === 'succeeded')
    }, 150_000)
    const runs = await history()
    // One run to 1.2.4 although two schedulers wanted it, and none again after it was rolled back.
    expect(runs.filter(r => r.toVersion === '1.2.4')).toMatchObject([{ status: 'rolled_back', requestedBy: { email: null, via: 'schedule' } }])
    expect(done.requestedBy).toEqual({ email: null, via: 'schedule' })
    // Settled: nothing more is started (1.2.4 failed here, 1.2.3 runs).
    await new Promise(resolve => setTimeout(resolve, 3_000))
    expect((await history()).length).toBe(runs.length)
  }, 200_000)
})

describe('notifications', () => {
  it('reach the webhook signed, once per event, across the web\'s restarts', async () => {
    const events = await waitFor('update-succeeded', async () => {
      const seen = delivered()
      return seen.some(n => n.event === 'update-succeeded') ? seen : undefined
    }, 30_000)
    expect(hooks.received.every(h => h.signatureValid)).toBe(true)
    const runEvents = events.filter(n => n.event.startsWith('update-')).map(n => [n.event, 'toVersion' in n.data ? n.data.toVersion : null])
    expect(runEvents).toEqual(expect.arrayContaining([
      ['update-started', '1.2.4'], ['update-rolled-back', '1.2.4'], ['update-started', '1.2.3'], ['update-succeeded', '1.2.3'],
    ]))
    const started = events.find(n => n.event === 'update-started')!
    expect(started.data).toMatchObject({ via: 'schedule' })
    // The web restarted twice meanwhile: still one delivery per notification.
    const ids = hooks.received.filter(h => h.status === 200).map(h => h.headers['x-owlat-webhook-id'])
    expect(new Set(ids).size).toBe(ids.length)
    expect(events.filter(n => n.event === 'release-available').map(n => n.data.version)).toEqual(expect.arrayContaining(['1.2.5', '1.2.4']))
  })

  it('mail every admin whose preference wants the event, and nobody who chose none', async () => {
    await waitFor('the success mail', async () => smtp.mails.find(m => m.parsed.subject?.includes('Updated to 1.2.3')), 30_000)
    const to = smtp.mails.flatMap(m => m.envelope.to)
    expect(to).toContain(ADMIN.email)
    expect(to).not.toContain(QUIET.email)
    const success = smtp.mails.find(m => m.parsed.subject?.includes('Updated to 1.2.3'))!
    expect(success.parsed.text).toMatch(/now runs 1\.2\.3/)
    expect(success.parsed.html).toBeTruthy()
  })
})
