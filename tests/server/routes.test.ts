/**
 * The web's routes against the real stack: the sidecar subprocess supervising the built web.
 * Cases run in order; the 4xx cases come before the update and assert nothing changed.
 */
import { appendFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { artifactNames } from '../../shared/release-artifacts'
import { signRequest } from '../../shared/request-signing'
import {
  healthResponseSchema, historySchema, rollbackCandidatesSchema, runAcknowledgementSchema, runExportSchema, runSchema, statusSchema, versionInfoSchema, type Run,
} from '../../shared/schemas/api'
import { jobAcceptedSchema, jobSchema, type JobRequest } from '../../shared/schemas/job'
import { releasesResponseSchema } from '../../shared/schemas/release'
import { isActiveStatus } from '../../shared/run-state'
import { parseOutputLine } from '../../shared/service-output'
import { jobRequest, SidecarClient } from '../sidecar/helpers'
import { addRelease, ADMIN, createUserViaScript, MEMBER, startStack, UPDATER_PORT, waitFor, WEB, withoutDemoRelease, type Stack } from './stack'

let stack: Stack
let admin: string
let member: string

interface Answer { status: number, body: unknown }

async function call(method: string, path: string, opts: { cookie?: string, body?: unknown, raw?: string, headers?: Record<string, string> } = {}): Promise<Answer> {
  const hasBody = opts.body !== undefined || opts.raw !== undefined
  const res = await fetch(`${WEB}${path}`, {
    method,
    headers: {
      ...(opts.cookie ? { cookie: opts.cookie } : {}),
      ...(hasBody ? { 'content-type': 'application/json' } : {}),
      accept: 'application/json',
      ...opts.headers,
    },
    body: opts.raw ?? (opts.body === undefined ? undefined : JSON.stringify(opts.body)),
  })
  const text = await res.text()
  let body: unknown = text
  try {
    body = JSON.parse(text)
  }
  catch {
    // not JSON: keep the text
  }
  return { status: res.status, body }
}

async function login(email: string, password: string): Promise<string> {
  const res = await fetch(`${WEB}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password }),
  })
  expect(res.status).toBe(200)
  const cookie = res.headers.getSetCookie().map(c => c.split(';')[0]).join('; ')
  expect(cookie).toMatch(/owlat-session=/)
  return cookie
}

function message(answer: Answer): string {
  return (answer.body as { message?: string }).message ?? ''
}

/** Follows a run until it is no longer active; tolerates the web being down while it restarts. */
function runToEnd(runId: string, cookie: string): Promise<Run> {
  return waitFor(`run ${runId} to end`, async () => {
    const answer = await call('GET', `/api/system/updates/${runId}`, { cookie })
    if (answer.status !== 200) return undefined
    const run = runSchema.parse(answer.body)
    return isActiveStatus(run.status) ? undefined : run
  }, 90_000)
}

/** A signed request straight to the sidecar, as the `owlat` CLI sends it. */
/** The updater, asked directly as the CLI does. */
async function callSidecar(method: 'GET' | 'POST', path: string, body?: unknown): Promise<Answer> {
  return new SidecarClient(`http://127.0.0.1:${UPDATER_PORT}`, stack.secret).request(method, path, body)
}

/** The job body the CLI builds from the release artifacts in the release folder. */
function cliJobRequest(version: string): JobRequest {
  return jobRequest(stack.dataDir, version, { requestedBy: { email: 'ops@example.com', via: 'cli' } }, stack.releaseDir)
}

const ROUTES: [method: string, path: string, body?: unknown][] = [
  ['GET', '/api/system/version'],
  ['GET', '/api/system/status'],
  ['GET', '/api/system/releases'],
  ['POST', '/api/system/releases/check'],
  ['GET', '/api/system/settings'],
  ['PUT', '/api/system/settings', { channel: 'beta' }],
  ['GET', '/api/system/schedule'],
  ['GET', '/api/system/notifications/preference'],
  ['PUT', '/api/system/notifications/preference', { notifications: 'none' }],
  ['POST', '/api/system/updates', { targetVersion: '1.3.0' }],
  ['POST', '/api/system/rollbacks', { targetVersion: '1.2.2' }],
  ['GET', '/api/system/rollbacks/candidates'],
  ['POST', '/api/system/updates/some-run/acknowledge'],
  ['GET', '/api/system/updates/some-run/export'],
  ['GET', '/api/system/updates/some-run'],
  ['GET', '/api/system/history'],
  ['GET', '/api/system/health'],
  ['POST', '/api/system/notifications/dismiss', { version: '1.3.0' }],
  ['POST', '/api/system/bundles'],
]

beforeAll(async () => {
  // These cases read 1.3.0 as the newest release: the demo's required stop 1.3.1 is plan-routes.test.ts's.
  stack = await startStack({ prepare: withoutDemoRelease('1.3.1') })
}, 300_000)

afterAll(async () => {
  await stack?.stop()
})

describe('compressed answers', () => {
  // fetch decodes what it is sent, and throws when the bytes do not match content-encoding.
  for (const encoding of ['br', 'gzip']) {
    it(`sends the sign-in page and an unknown page's 404 as ${encoding} that decodes`, async () => {
      const page = await fetch(`${WEB}/login`, { headers: { 'accept-encoding': encoding } })
      expect(page.status).toBe(200)
      expect(page.headers.get('content-encoding')).toBe(encoding)
      expect(await page.text()).toMatch(/^<!DOCTYPE html>/i)

      const missing = await fetch(`${WEB}/no-such-page`, { headers: { 'accept-encoding': encoding, 'accept': 'text/html' } })
      expect(missing.status).toBe(404)
      expect(await missing.text()).toMatch(/<html[\s\S]*404/i)
    })
  }
})

describe('unauthenticated endpoints and sign-in', () => {
  it('answers /api/healthz without a session', async () => {
    expect(await call('GET', '/api/healthz')).toEqual({ status: 200, body: { status: 'ok' } })
  })

  it('treats a visitor who sends a guessed warm-up mark as signed out (server/utils/warm-up.ts)', async () => {
    for (const mark of ['00'.repeat(32), 'ab', 'x'.repeat(64), `${'00'.repeat(31)}zz`]) {
      const headers = { 'x-owlat-warm-up': mark }
      const page = await fetch(`${WEB}/settings/system`, { headers: { accept: 'text/html', ...headers }, redirect: 'manual' })
      expect(page.status).toBe(302)
      expect(page.headers.get('location')).toMatch(/^\/login/)
      expect((await call('GET', '/api/system/status', { headers })).status).toBe(401)
    }
  })

  it('refuses a wrong password and an unknown email alike', async () => {
    for (const body of [{ email: ADMIN.email, password: 'wrong-password' }, { email: 'nobody@example.com', password: 'whatever' }]) {
      const answer = await call('POST', '/api/auth/login', { body })
      expect(answer.status).toBe(401)
      expect(message(answer)).toBe('Invalid email or password')
    }
  })

  it('refuses a malformed sign-in body', async () => {
    const answer = await call('POST', '/api/auth/login', { body: { email: 'not-an-email', password: '' } })
    expect(answer.status).toBe(400)
    expect(message(answer)).toMatch(/email: enter a valid email address/)
  })

  it('signs in the seeded admin and the member made by the script', async () => {
    admin = await login(ADMIN.email, ADMIN.password)
    member = await login(MEMBER.email, MEMBER.password)
  })

  it('logs out by clearing the session, which ends the admin\'s other sessions too (tests/server/sessions.test.ts)', async () => {
    const cookie = await login(ADMIN.email, ADMIN.password)
    const res = await fetch(`${WEB}/api/auth/logout`, { method: 'POST', headers: { cookie } })
    expect(res.status).toBe(200)
    const cleared = res.headers.getSetCookie().map(c => c.split(';')[0]).join('; ')
    expect((await call('GET', '/api/system/status', { cookie: cleared })).status).toBe(401)
    expect((await call('GET', '/api/system/status', { cookie: admin })).status).toBe(401)
    admin = await login(ADMIN.email, ADMIN.password)
  })
})

describe('create-user script', () => {
  it('refuses bad arguments and duplicates with a clear message and exit 1', () => {
    const bad = createUserViaScript(stack.dataDir, ['--email', 'nope', '--password', 'short', '--role', 'owner'])
    expect(bad.status).toBe(1)
    expect(bad.stderr).toMatch(/--email must be an email address; --password must be at least 8 characters; --role must be member or platform-admin/)
    const dup = createUserViaScript(stack.dataDir, ['--email', MEMBER.email, '--password', 'another-password', '--role', 'member'])
    expect(dup.status).toBe(1)
    expect(dup.stderr).toMatch(/already exists/)
  })
})

describe('guards', () => {
  it.each(ROUTES)('401 signed out: %s %s', async (method, path, body) => {
    const answer = await call(method, path, { body })
    expect(answer.status, JSON.stringify(answer.body)).toBe(401)
  })

  it.each(ROUTES)('403 for a member: %s %s', async (method, path, body) => {
    const answer = await call(method, path, { body, cookie: member })
    expect(answer.status).toBe(403)
    expect(message(answer)).toMatch(/platform admins/)
  })

  it('lets the sidecar read the version with a signed request, once', async () => {
    const headers = signRequest({ secret: stack.secret, method: 'GET', path: '/api/system/version' })
    const answer = await call('GET', '/api/system/version', { headers })
    expect(answer.status).toBe(200)
    expect(versionInfoSchema.parse(answer.body).version).toBe('1.2.2')
    const replayed = await call('GET', '/api/system/version', { headers })
    expect(replayed.status).toBe(401)
    expect(message(replayed)).toMatch(/replayed/)
  })

  it('tells signed version reads of the same millisecond apart by their nonce, and still reads the form without one', async () => {
    const now = Date.now()
    const signed = Array.from({ length: 20 }, () => signRequest({ secret: stack.secret, method: 'GET', path: '/api/system/version', now }))
    const answers = await Promise.all(signed.map(headers => call('GET', '/api/system/version', { headers })))
    expect(answers.map(a => a.status)).toEqual(signed.map(() => 200))
    // What an updater from before the nonce sends (the one that verifies a web it just updated).
    const legacy = signRequest({ secret: stack.secret, method: 'GET', path: '/api/system/version', nonce: false })
    expect((await call('GET', '/api/system/version', { headers: legacy })).status).toBe(200)
    expect((await call('GET', '/api/system/version', { headers: { ...signed[0]!, 'X-Owlat-Signature': signed[0]!['X-Owlat-Signature']!.toUpperCase() } })).status).toBe(401)
  })

  it('refuses a fresh signature spelt another way (upper case, extra characters), so it cannot pass twice', async () => {
    const headers = signRequest({ secret: stack.secret, method: 'GET', path: '/api/system/version' })
    const signature = headers['X-Owlat-Signature']!
    for (const altered of [signature.toUpperCase(), `${signature}zz`, `${signature}00`]) {
      const answer = await call('GET', '/api/system/version', { headers: { ...headers, 'X-Owlat-Signature': altered } })
      expect(answer.status).toBe(401)
      expect(message(answer)).toBe('Signed request refused: malformed request signature (64 lowercase hex characters)')
    }
    expect((await call('GET', '/api/system/version', { headers })).status).toBe(200)
    expect((await call('GET', '/api/system/version', { headers })).status).toBe(401)
  })

  it('refuses a bad signature on the version endpoint', async () => {
    const headers = signRequest({ secret: 'not-the-instance-secret-at-all', method: 'GET', path: '/api/system/version' })
    const answer = await call('GET', '/api/system/version', { headers })
    expect(answer.status).toBe(401)
    expect(message(answer)).toMatch(/bad request signature/)
  })
})

describe('reads', () => {
  it('reports the status: 1.3.0 is available on stable', async () => {
    const answer = await call('GET', '/api/system/status', { cookie: admin })
    expect(answer.status).toBe(200)
    const status = statusSchema.parse(answer.body)
    expect(status).toMatchObject({ currentVersion: '1.2.2', channel: 'stable', updateAvailable: true, severity: 'normal', dismissed: false, activeRun: null })
    expect(status.latest?.version).toBe('1.3.0')
    expect(status.lastCheck.checkedAt).toEqual(expect.any(Number))
  })

  it('lists the releases and refreshes them on demand', async () => {
    const list = releasesResponseSchema.parse((await call('GET', '/api/system/releases', { cookie: admin })).body)
    expect(list.releases.map(r => r.version)).toEqual(['1.4.0-beta.2', '1.4.0-beta.1', '1.3.0', '1.2.3', '1.2.2'])
    const checked = await call('POST', '/api/system/releases/check', { cookie: admin })
    expect(checked.status).toBe(200)
    expect(releasesResponseSchema.parse(checked.body).checkedAt).toBeGreaterThanOrEqual(list.checkedAt ?? 0)
  })

  it('reports the sidecar\'s health, that its driver cannot back up, and that it can rehearse', async () => {
    const health = healthResponseSchema.parse((await call('GET', '/api/system/health', { cookie: admin })).body)
    expect(health).toMatchObject({ reachable: true, driver: 'local', error: null, backups: { supported: false, reason: expect.stringMatching(/local driver/) }, rehearsals: { supported: true, reason: null } })
    expect(health.services.map(s => s.name)).toContain('web')
  })

  it('answers 404 for an unknown run', async () => {
    const answer = await call('GET', '/api/system/updates/no-such-run', { cookie: admin })
    expect(answer.status).toBe(404)
  })
})

describe('settings', () => {
  it('switches the channel, which changes what is offered, and refuses bad values', async () => {
    expect((await call('GET', '/api/system/settings', { cookie: admin })).body).toMatchObject({ channel: 'stable' })
    expect((await call('PUT', '/api/system/settings', { cookie: admin, body: { channel: 'beta' } })).body).toMatchObject({ channel: 'beta' })
    const status = statusSchema.parse((await call('GET', '/api/system/status', { cookie: admin })).body)
    expect(status.latest?.version).toBe('1.4.0-beta.2')
    const bad = await call('PUT', '/api/system/settings', { cookie: admin, body: { channel: 'nightly' } })
    expect(bad.status).toBe(400)
    expect(message(bad)).toMatch(/channel/)
    expect((await call('PUT', '/api/system/settings', { cookie: admin, body: { channel: 'stable' } })).body).toMatchObject({ channel: 'stable' })
  })
  it('saves the automatic update policy as a partial patch, names who paused, and refuses each bad input with nothing saved', async () => {
    const before = (await call('GET', '/api/system/settings', { cookie: admin })).body
    expect(before).toEqual({ channel: 'stable', autoUpdate: 'off', maintenanceWindow: null, securityOutsideWindow: false, pausedUntil: null, pausedBy: null })
    const window = { days: ['sun'], start: '03:00', durationMinutes: 90, timeZone: 'UTC' }
    const saved = await call('PUT', '/api/system/settings', { cookie: admin, body: { autoUpdate: 'patch', maintenanceWindow: window, securityOutsideWindow: true, pausedUntil: 4_102_444_800_000 } })
    expect(saved.status).toBe(200)
    const expected = { channel: 'stable', autoUpdate: 'patch', maintenanceWindow: window, securityOutsideWindow: true, pausedUntil: 4_102_444_800_000, pausedBy: ADMIN.email }
    expect(saved.body).toEqual(expected)
    expect((await call('GET', '/api/system/settings', { cookie: admin })).body).toEqual(expected)

    const bad: Array<[unknown, RegExp]> = [
      [{ autoUpdate: 'always' }, /autoUpdate/],
      [{ maintenanceWindow: { ...window, timeZone: 'Mars/Olympus' } }, /time zone/],
      [{ maintenanceWindow: { ...window, start: '25:00' } }, /start/],
      [{ maintenanceWindow: { ...window, days: [] } }, /day/],
      [{ maintenanceWindow: { ...window, days: ['someday'] } }, /days/],
      [{ maintenanceWindow: { ...window, durationMinutes: 0 } }, /durationMinutes/],
      [{ channel: 'beta', securityOutsideWindow: 'yes' }, /securityOutsideWindow/],
      [{ pausedBy: 'someone@else' }, /pausedBy|Unrecognized/i],
    ]
    for (const [body, why] of bad) {
      const answer = await call('PUT', '/api/system/settings', { cookie: admin, body })
      expect(answer.status, JSON.stringify(body)).toBe(400)
      expect(message(answer)).toMatch(why)
    }
    expect((await call('GET', '/api/system/settings', { cookie: admin })).body).toEqual(expected)

    // Lifting the freeze clears who set it; everything else stays.
    const lifted = await call('PUT', '/api/system/settings', { cookie: admin, body: { pausedUntil: null, autoUpdate: 'off', maintenanceWindow: null, securityOutsideWindow: false } })
    expect(lifted.body).toEqual(before)
  })
})

describe('notification preference', () => {
  it('is all until the admin chooses, kept per admin, and refuses an unknown one', async () => {
    expect((await call('GET', '/api/system/notifications/preference', { cookie: admin })).body).toEqual({ notifications: 'all' })
    expect((await call('PUT', '/api/system/notifications/preference', { cookie: admin, body: { notifications: 'security' } })).body).toEqual({ notifications: 'security' })
    expect((await call('GET', '/api/system/notifications/preference', { cookie: admin })).body).toEqual({ notifications: 'security' })
    const bad = await call('PUT', '/api/system/notifications/preference', { cookie: admin, body: { notifications: 'some' } })
    expect(bad.status).toBe(400)
    expect(message(bad)).toMatch(/all, security or none/)
    expect((await call('GET', '/api/system/notifications/preference', { cookie: admin })).body).toEqual({ notifications: 'security' })
    expect((await call('PUT', '/api/system/notifications/preference', { cookie: admin, body: { notifications: 'all' } })).status).toBe(200)
  })
})

describe('dismissing notifications', () => {
  it('dismisses a normal release for this admin', async () => {
    expect(await call('POST', '/api/system/notifications/dismiss', { cookie: admin, body: { version: '1.3.0' } })).toEqual({ status: 200, body: { ok: true } })
    expect(statusSchema.parse((await call('GET', '/api/system/status', { cookie: admin })).body).dismissed).toBe(true)
  })

  it('refuses an unknown version and a malformed body', async () => {
    const unknown = await call('POST', '/api/system/notifications/dismiss', { cookie: admin, body: { version: '9.9.9' } })
    expect(unknown.status).toBe(400)
    expect(message(unknown)).toMatch(/Unknown version 9\.9\.9/)
    expect((await call('POST', '/api/system/notifications/dismiss', { cookie: admin, body: { version: 'latest' } })).status).toBe(400)
  })

  it('keeps a dismissal per admin, and a newer release notifies again', async () => {
    const other = { email: 'second-admin@example.com', password: 'second-admin-password' }
    expect(createUserViaScript(stack.dataDir, ['--email', other.email, '--password', other.password, '--role', 'platform-admin']).status).toBe(0)
    const otherAdmin = await login(other.email, other.password)
    // The first admin dismissed 1.3.0 above; the second still sees it.
    expect(statusSchema.parse((await call('GET', '/api/system/status', { cookie: otherAdmin })).body)).toMatchObject({ latest: { version: '1.3.0' }, dismissed: false })

    const names = addRelease(stack, '1.3.1', { publishedAt: '2026-11-20T10:00:00Z', notes: 'A newer fix.' })
    try {
      expect((await call('POST', '/api/system/releases/check', { cookie: admin })).status).toBe(200)
      expect(statusSchema.parse((await call('GET', '/api/system/status', { cookie: admin })).body)).toMatchObject({ latest: { version: '1.3.1' }, dismissed: false })
    }
    finally {
      // Later cases expect 1.3.0 to be the newest release.
      for (const file of Object.values(names)) rmSync(join(stack.releaseDir, file), { force: true })
      expect((await call('POST', '/api/system/releases/check', { cookie: admin })).status).toBe(200)
    }
    // Back to 1.3.0: the first admin's dismissal of it still holds.
    expect(statusSchema.parse((await call('GET', '/api/system/status', { cookie: admin })).body)).toMatchObject({ latest: { version: '1.3.0' }, dismissed: true })
  })

  it('never dismisses a security release', async () => {
    addRelease(stack, '1.2.4', { publishedAt: '2026-10-15T10:00:00Z', severity: 'security', notes: 'Security fix.' })
    expect((await call('POST', '/api/system/releases/check', { cookie: admin })).status).toBe(200)
    const answer = await call('POST', '/api/system/notifications/dismiss', { cookie: admin, body: { version: '1.2.4' } })
    expect(answer.status).toBe(400)
    expect(message(answer)).toBe('Security releases cannot be dismissed')
  })
})

describe('cross-site requests', () => {
  /** What an auto-submitting form on another port of the same host sends. */
  const form = (path: string, body: string, headers: Record<string, string> = {}) => call('POST', path, {
    cookie: admin,
    raw: body,
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'origin': 'http://127.0.0.1:3430', 'sec-fetch-site': 'same-site', ...headers },
  })

  it('refuses the form of another port starting an update or a rollback (403)', async () => {
    for (const [path, body] of [['/api/system/updates', 'targetVersion=1.3.0'], ['/api/system/rollbacks', 'targetVersion=1.2.0']] as const) {
      const answer = await form(path, body)
      expect(answer.status).toBe(403)
      expect(message(answer)).toBe('Cross-origin request refused: http://127.0.0.1:3430 is not this app\'s origin (set OWLAT_ORIGIN when a proxy serves it elsewhere)')
    }
  })

  it('refuses a form even when the browser sends no Origin (415), and plain text that looks like JSON', async () => {
    const noOrigin = await call('POST', '/api/system/updates', { cookie: admin, raw: 'targetVersion=1.3.0', headers: { 'content-type': 'application/x-www-form-urlencoded' } })
    expect(noOrigin.status).toBe(415)
    expect(message(noOrigin)).toBe('Requests that change anything must be JSON, not application/x-www-form-urlencoded')
    const text = await call('POST', '/api/system/updates', { cookie: admin, raw: '{"targetVersion":"1.3.0"}', headers: { 'content-type': 'text/plain' } })
    expect(text.status).toBe(415)
    const multipart = await call('PUT', '/api/system/settings', { cookie: admin, raw: '--x\r\n\r\n--x--', headers: { 'content-type': 'multipart/form-data; boundary=x' } })
    expect(multipart.status).toBe(415)
  })

  it('refuses JSON from another origin or another site, and a sign-in from another page', async () => {
    const other = await call('POST', '/api/system/notifications/dismiss', { cookie: admin, body: { version: '1.3.0' }, headers: { origin: 'http://evil.127.0.0.1.nip.io:3000' } })
    expect(other.status).toBe(403)
    const sibling = await call('POST', '/api/system/releases/check', { cookie: admin, headers: { 'sec-fetch-site': 'same-site' } })
    expect(sibling.status).toBe(403)
    const login = await call('POST', '/api/auth/login', { body: ADMIN, headers: { origin: 'http://127.0.0.1:3430' } })
    expect(login.status).toBe(403)
  })

  it('lets the page\'s own requests through: JSON, or no body at all, from its origin', async () => {
    const own = { 'origin': WEB, 'sec-fetch-site': 'same-origin' }
    expect((await call('POST', '/api/system/releases/check', { cookie: admin, headers: own })).status).toBe(200)
    expect((await call('PUT', '/api/system/settings', { cookie: admin, body: { channel: 'stable' }, headers: own })).status).toBe(200)
  })
})

describe('refused updates and rollbacks', () => {
  it.each([
    ['an empty body', {}, /targetVersion/],
    ['a version that is not semver', { targetVersion: 'latest' }, /targetVersion: must be a semantic version/],
    ['an extra field', { targetVersion: '1.3.0', force: true }, /force/],
    ['an unknown version', { targetVersion: '9.9.9' }, /Unknown version 9\.9\.9/],
    ['the running version', { targetVersion: '1.2.2' }, /not newer than the running version 1\.2\.2/],
    ['a beta on the stable channel', { targetVersion: '1.4.0-beta.1' }, /switch the update channel to beta/],
  ])('400 for %s', async (_, body, reason) => {
    const answer = await call('POST', '/api/system/updates', { cookie: admin, body })
    expect(answer.status).toBe(400)
    expect(message(answer)).toMatch(reason)
  })

  it('400 for a body that is not JSON', async () => {
    expect((await call('POST', '/api/system/updates', { cookie: admin, raw: '{"targetVersion": ' })).status).toBe(400)
  })

  it('400 for a release whose compose file was tampered with', async () => {
    appendFileSync(join(stack.releaseDir, artifactNames('1.2.3').compose), '\n# injected\n')
    const answer = await call('POST', '/api/system/updates', { cookie: admin, body: { targetVersion: '1.2.3' } })
    expect(answer.status).toBe(400)
    expect(message(answer)).toMatch(/Release 1\.2\.3 failed verification.*compose file sha256/)
    // After a check the release is listed as unverified and never offered.
    const list = releasesResponseSchema.parse((await call('POST', '/api/system/releases/check', { cookie: admin })).body)
    expect(list.releases.find(r => r.version === '1.2.3')).toMatchObject({ verified: false })
  })

  it('400 for a rollback to a version that is not older', async () => {
    const answer = await call('POST', '/api/system/rollbacks', { cookie: admin, body: { targetVersion: '1.3.0' } })
    expect(answer.status).toBe(400)
    expect(message(answer)).toMatch(/not older than the running version 1\.2\.2/)
  })

  it('400 for a rollback to a version never installed here nor released', async () => {
    const answer = await call('POST', '/api/system/rollbacks', { cookie: admin, body: { targetVersion: '1.0.0' } })
    expect(answer.status).toBe(400)
    expect(message(answer)).toMatch(/Unknown version 1\.0\.0: it was never installed here nor released/)
  })

  it('400 for a rollback body with a restore flag that is not a boolean, or an update with an unknown field', async () => {
    const rollback = await call('POST', '/api/system/rollbacks', { cookie: admin, body: { targetVersion: '1.2.1', restoreBackup: 'yes' } })
    expect(rollback.status).toBe(400)
    expect(message(rollback)).toMatch(/restoreBackup/)
    const update = await call('POST', '/api/system/updates', { cookie: admin, body: { targetVersion: '1.3.0', restoreBackup: true } })
    expect(update.status).toBe(400)
    expect(message(update)).toMatch(/restoreBackup/)
  })

  it('lists rollback targets with the reason a target below a data migration\'s floor is refused, and refuses it (400)', async () => {
    addRelease(stack, '1.1.0', { migrations: { migratesData: false, rollbackFloor: null } })
    addRelease(stack, '1.2.0', { migrations: { migratesData: true, rollbackFloor: '1.2.0' } })
    expect((await call('POST', '/api/system/releases/check', { cookie: admin })).status).toBe(200)
    const answer = await call('GET', '/api/system/rollbacks/candidates', { cookie: admin })
    expect(answer.status).toBe(200)
    const { currentVersion, backups, candidates } = rollbackCandidatesSchema.parse(answer.body)
    expect(currentVersion).toBe('1.2.2')
    expect(backups).toMatchObject({ supported: false })
    expect(candidates.map(c => [c.version, c.disabledReason])).toEqual([
      ['1.2.0', null],
      ['1.1.0', '1.2.0 migrated data and cannot roll back below 1.2.0'],
    ])
    expect(candidates[0]!.undoes.map(u => u.version)).toEqual(['1.2.2'])
    expect(candidates[1]!.undoes.map(u => [u.version, u.migratesData])).toEqual([['1.2.2', false], ['1.2.0', true]])
    expect(candidates.every(c => c.backup === null && c.publishedAt === '2026-06-01T10:00:00Z')).toBe(true)

    const refused = await call('POST', '/api/system/rollbacks', { cookie: admin, body: { targetVersion: '1.1.0' } })
    expect(refused.status).toBe(400)
    expect(message(refused)).toBe('1.2.0 migrated data and cannot roll back below 1.2.0')
  })

  it('changed nothing: no run was recorded', async () => {
    expect(historySchema.parse((await call('GET', '/api/system/history', { cookie: admin })).body).runs).toEqual([])
  })
})

describe('update and rollback', () => {
  let runId: string

  it('accepts one of two concurrent updates (202) and refuses the other (409)', async () => {
    const answers = await Promise.all([0, 1].map(() => call('POST', '/api/system/updates', { cookie: admin, body: { targetVersion: '1.3.0', backup: false } })))
    expect(answers.map(a => a.status).sort()).toEqual([202, 409])
    const accepted = answers.find(a => a.status === 202)!
    runId = (accepted.body as { runId: string }).runId
    expect(runId).toEqual(expect.any(String))
    expect(message(answers.find(a => a.status === 409)!)).toMatch(/already in progress/)
  })

  it('runs the update to success; the same session then sees 1.3.0', async () => {
    const run = await runToEnd(runId, admin)
    expect(run, stack.output()).toMatchObject({ status: 'succeeded', kind: 'update', fromVersion: '1.2.2', toVersion: '1.3.0', jobId: expect.any(String), requestedBy: { email: ADMIN.email, via: 'web' } })
    expect(run.steps.find(s => s.name === 'verify')?.status).toBe('succeeded')
    // `backup: false` reached the sidecar: the step says it was not asked for.
    expect(run.steps.find(s => s.name === 'backup')).toMatchObject({ status: 'skipped', log: ['no backup requested for this job'] })
    const version = await call('GET', '/api/system/version', { cookie: admin })
    expect(version.status).toBe(200)
    expect(versionInfoSchema.parse(version.body).version).toBe('1.3.0')
    const status = statusSchema.parse((await call('GET', '/api/system/status', { cookie: admin })).body)
    expect(status).toMatchObject({ currentVersion: '1.3.0', updateAvailable: false, activeRun: null })
  })

  it('offers 1.2.2 as a version this instance ran, and not the tampered 1.2.3', async () => {
    const { candidates } = rollbackCandidatesSchema.parse((await call('GET', '/api/system/rollbacks/candidates', { cookie: admin })).body)
    const byVersion = new Map(candidates.map(c => [c.version, c]))
    expect(byVersion.get('1.2.2')).toMatchObject({ disabledReason: null, ranHereAt: expect.any(Number), backup: null })
    expect(byVersion.get('1.2.2')!.undoes.map(u => u.version)).toEqual(['1.3.0', '1.2.4', '1.2.3'])
    expect(byVersion.get('1.2.3')!.disabledReason).toMatch(/failed verification/)
    const refused = await call('POST', '/api/system/rollbacks', { cookie: admin, body: { targetVersion: '1.2.3' } })
    expect(refused.status).toBe(400)
    expect(message(refused)).toMatch(/Release 1\.2\.3 failed verification/)
  })

  it('rolls back to 1.2.2 by hand', async () => {
    const answer = await call('POST', '/api/system/rollbacks', { cookie: admin, body: { targetVersion: '1.2.2', restoreBackup: true } })
    expect(answer.status).toBe(202)
    const run = await runToEnd((answer.body as { runId: string }).runId, admin)
    expect(run, stack.output()).toMatchObject({ status: 'succeeded', kind: 'rollback', fromVersion: '1.3.0', toVersion: '1.2.2' })
    expect(versionInfoSchema.parse((await call('GET', '/api/system/version', { cookie: admin })).body).version).toBe('1.2.2')
  })

  it('reports the broken beta as rolled back, still running 1.2.2', async () => {
    await call('PUT', '/api/system/settings', { cookie: admin, body: { channel: 'beta' } })
    const answer = await call('POST', '/api/system/updates', { cookie: admin, body: { targetVersion: '1.4.0-beta.1' } })
    expect(answer.status).toBe(202)
    const run = await runToEnd((answer.body as { runId: string }).runId, admin)
    expect(run, stack.output()).toMatchObject({ status: 'rolled_back', toVersion: '1.4.0-beta.1', reason: expect.any(String) })
    expect(run.steps.find(s => s.name === 'verify-restore')?.status).toBe('succeeded')
    expect(versionInfoSchema.parse((await call('GET', '/api/system/version', { cookie: admin })).body).version).toBe('1.2.2')
    await call('PUT', '/api/system/settings', { cookie: admin, body: { channel: 'stable' } })
  })

  it('keeps the web\'s own output with the run, marks the beta as failed here, and installs it again only when asked (issue 13)', async () => {
    await call('PUT', '/api/system/settings', { cookie: admin, body: { channel: 'beta' } })
    const status = statusSchema.parse((await call('GET', '/api/system/status', { cookie: admin })).body)
    const run = status.unacknowledgedRun!
    // One id: the updater took the run's id for its job, and either finds the run.
    expect(run.jobId).toBe(run.id)
    expect(runSchema.parse((await call('GET', `/api/system/updates/${run.jobId}`, { cookie: admin })).body).id).toBe(run.id)
    const verify = run.steps.find(s => s.name === 'verify')!
    const output = verify.log.map(parseOutputLine).filter(line => line !== null)
    expect(output.map(line => line.line).join('\n'), verify.log.join('\n')).toContain('health check failed')
    expect(output.every(line => line.service === 'web' && line.version === '1.4.0-beta.1')).toBe(true)

    expect(status.latest?.version).toBe('1.4.0-beta.2')
    expect(status.failedReleases).toEqual([{ version: '1.4.0-beta.1', runId: run.id, status: 'rolled_back', endedAt: run.endedAt, reason: run.reason }])
    const refused = await call('POST', '/api/system/updates', { cookie: admin, body: { targetVersion: '1.4.0-beta.1' } })
    expect(refused.status).toBe(400)
    expect(message(refused)).toMatch(/^1\.4\.0-beta\.1 already failed on this instance/)
    expect((refused.body as { data?: { failedHere?: { runId: string } } }).data?.failedHere?.runId).toBe(run.id)
    await call('PUT', '/api/system/settings', { cookie: admin, body: { channel: 'stable' } })
  })

  it('keeps the rolled-back run on every admin\'s status until one acknowledges it', async () => {
    const before = statusSchema.parse((await call('GET', '/api/system/status', { cookie: admin })).body)
    expect(before.unacknowledgedRun).toMatchObject({ status: 'rolled_back', toVersion: '1.4.0-beta.1' })
    const runId = before.unacknowledgedRun!.id
    expect((await call('POST', `/api/system/updates/${runId}/acknowledge`, { cookie: member })).status).toBe(403)
    expect((await call('POST', '/api/system/updates/no-such-run/acknowledge', { cookie: admin })).status).toBe(404)

    const answer = await call('POST', `/api/system/updates/${runId}/acknowledge`, { cookie: admin })
    expect(answer.status).toBe(200)
    const ack = runAcknowledgementSchema.parse(answer.body)
    expect(ack).toMatchObject({ runId, email: ADMIN.email, acknowledgedAt: expect.any(Number) })
    // A second admin session sees it gone; acknowledging again keeps the first acknowledgement.
    const other = await login(ADMIN.email, ADMIN.password)
    expect(statusSchema.parse((await call('GET', '/api/system/status', { cookie: other })).body).unacknowledgedRun).toBeNull()
    expect(runAcknowledgementSchema.parse((await call('POST', `/api/system/updates/${runId}/acknowledge`, { cookie: other })).body)).toEqual(ack)

    const { runs } = historySchema.parse((await call('GET', '/api/system/history', { cookie: admin })).body)
    const succeeded = runs.find(r => r.status === 'succeeded')!
    const refused = await call('POST', `/api/system/updates/${succeeded.id}/acknowledge`, { cookie: admin })
    expect(refused.status).toBe(400)
    expect(message(refused)).toMatch(/only failed or rolled-back runs/)
  })

  it('exports a run with every step and its acknowledgement as a JSON file', async () => {
    const { unacknowledgedRun } = statusSchema.parse((await call('GET', '/api/system/status', { cookie: admin })).body)
    expect(unacknowledgedRun).toBeNull()
    const { runs } = historySchema.parse((await call('GET', '/api/system/history', { cookie: admin })).body)
    const res = await fetch(`${WEB}/api/system/updates/${runs[0]!.id}/export`, { headers: { cookie: admin } })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename="owlat-update-1\.2\.2-to-1\.4\.0-beta\.1-[\w-]+\.json"$/)
    const exported = runExportSchema.parse(await res.json())
    expect(exported.run).toEqual(runs[0])
    expect(exported.run.steps.find(s => s.name === 'verify')?.log.length).toBeGreaterThan(0)
    expect(exported.acknowledgement).toMatchObject({ runId: runs[0]!.id, email: ADMIN.email })
  })

  it('lists every run newest first', async () => {
    const { runs } = historySchema.parse((await call('GET', '/api/system/history', { cookie: admin })).body)
    expect(runs.map(r => [r.kind, r.toVersion, r.status])).toEqual([
      ['update', '1.4.0-beta.1', 'rolled_back'],
      ['rollback', '1.2.2', 'succeeded'],
      ['update', '1.3.0', 'succeeded'],
    ])
  })
})

describe('a run started from the CLI', () => {
  let jobId: string
  let runId: string

  it('shows as the active run while it runs, and the web refuses to start another (409)', async () => {
    // The beta already failed here (the web's run above): the updater refuses it unless asked explicitly.
    const refusedAgain = await callSidecar('POST', '/v1/jobs', cliJobRequest('1.4.0-beta.1'))
    expect(refusedAgain.status).toBe(400)
    expect(JSON.stringify(refusedAgain.body)).toMatch(/1\.4\.0-beta\.1 already failed on this instance/)
    // The broken beta keeps the job in verify for OWLAT_VERIFY_TIMEOUT_MS while its web answers.
    const accepted = await callSidecar('POST', '/v1/jobs', { ...cliJobRequest('1.4.0-beta.1'), retryFailed: true })
    expect(accepted.status, JSON.stringify(accepted.body)).toBe(202)
    jobId = jobAcceptedSchema.parse(accepted.body).jobId
    const status = await waitFor('the CLI run to show as active while the beta is verified', async () => {
      const answer = await call('GET', '/api/system/status', { cookie: admin })
      if (answer.status !== 200) return undefined
      const parsed = statusSchema.parse(answer.body)
      return parsed.webVersion === '1.4.0-beta.1' && parsed.activeRun ? parsed : undefined
    })
    // The new web answers, but nothing is committed: the status says the version that is installed.
    expect(status).toMatchObject({ currentVersion: '1.2.2', verifyTimeoutMs: expect.any(Number) })
    expect(status.activeRun, stack.output()).toMatchObject({
      jobId, kind: 'update', fromVersion: '1.2.2', toVersion: '1.4.0-beta.1', status: 'running', requestedBy: { email: 'ops@example.com', via: 'cli' },
    })
    runId = status.activeRun!.id
    const refused = await call('POST', '/api/system/updates', { cookie: admin, body: { targetVersion: '1.3.0' } })
    expect(refused.status).toBe(409)
    expect(message(refused)).toMatch(/already in progress/)
    expect((refused.body as { data?: { activeRunId?: string } }).data?.activeRunId).toBe(runId)
    // A rollback to a target that is otherwise fine is refused the same way while the run is active.
    const rollback = await call('POST', '/api/system/rollbacks', { cookie: admin, body: { targetVersion: '1.2.2' } })
    expect(rollback.status).toBe(409)
    expect(message(rollback)).toMatch(/already in progress/)
    expect((rollback.body as { data?: { activeRunId?: string } }).data?.activeRunId).toBe(runId)
  })

  it('follows it to its true end, by id and in the history', async () => {
    const run = await runToEnd(runId, admin)
    const job = jobSchema.parse((await callSidecar('GET', `/v1/jobs/${jobId}`)).body)
    expect(job.status).toBe('rolled_back')
    expect(run, stack.output()).toMatchObject({ jobId, status: 'rolled_back', reason: job.reason, endedAt: job.endedAt, requestedBy: { via: 'cli' } })
    expect(run.steps).toEqual(job.steps)
    const { runs } = historySchema.parse((await call('GET', '/api/system/history', { cookie: admin })).body)
    expect(runs.map(r => [r.kind, r.toVersion, r.status, r.requestedBy.via])).toEqual([
      ['update', '1.4.0-beta.1', 'rolled_back', 'cli'],
      ['update', '1.4.0-beta.1', 'rolled_back', 'web'],
      ['rollback', '1.2.2', 'succeeded', 'web'],
      ['update', '1.3.0', 'succeeded', 'web'],
    ])
    expect(runs[0]).toEqual(run)
    const status = statusSchema.parse((await call('GET', '/api/system/status', { cookie: admin })).body)
    expect(status).toMatchObject({ currentVersion: '1.2.2', activeRun: null })
  })
})
