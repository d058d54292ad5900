/**
 * The watch window against the real stack (the sidecar subprocess supervising the built web): the
 * demo's 1.4.0-beta.2 passes verify, answers its version (the page reloads onto it), then turns
 * unhealthy 15 s after it first answered healthy; the window catches it and 1.2.2 is restored.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runSchema, statusSchema, versionInfoSchema, type Run } from '../../shared/schemas/api'
import { isActiveStatus } from '../../shared/run-state'
import { ADMIN, startStack, waitFor, WEB, type Stack } from './stack'

const WATCH_MS = 25_000
let stack: Stack
let cookie: string

async function call(method: string, path: string, body?: unknown): Promise<{ status: number, body: unknown }> {
  const res = await fetch(`${WEB}${path}`, {
    method,
    headers: { cookie, accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  const text = await res.text()
  return { status: res.status, body: text ? JSON.parse(text) : null }
}

beforeAll(async () => {
  // A loaded machine may take long to warm the new web up: verify may wait for it.
  stack = await startStack({ env: { OWLAT_WATCH_MS: String(WATCH_MS), OWLAT_VERIFY_TIMEOUT_MS: '90000' } })
  const res = await fetch(`${WEB}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ADMIN) })
  expect(res.status).toBe(200)
  cookie = res.headers.getSetCookie().map(c => c.split(';')[0]).join('; ')
}, 300_000)

afterAll(async () => {
  await stack?.stop()
})

describe('watch window', () => {
  it('catches 1.4.0-beta.2 falling over after verify and restores 1.2.2, with the failing sample as the reason', { timeout: 300_000 }, async () => {
    expect(statusSchema.parse((await call('GET', '/api/system/status')).body).watchMs).toBe(WATCH_MS)
    await call('PUT', '/api/system/settings', { channel: 'beta' })
    const answer = await call('POST', '/api/system/updates', { targetVersion: '1.4.0-beta.2' })
    expect(answer.status, JSON.stringify(answer.body)).toBe(202)
    const runId = (answer.body as { runId: string }).runId

    // In the window the new web runs and answers its version: the page would reload onto it here.
    const watching = await waitFor('the run in its watch window', async () => {
      const read = await call('GET', `/api/system/updates/${runId}`).catch(() => null)
      if (read?.status !== 200) return undefined
      const run = runSchema.parse(read.body)
      if (!isActiveStatus(run.status)) throw new Error(`the run ended before its watch window: ${JSON.stringify(run)}`)
      return run.steps.find(s => s.name === 'watch')?.status === 'running' ? run : undefined
    }, 150_000)
    expect(watching.steps.find(s => s.name === 'verify')?.status).toBe('succeeded')
    expect(versionInfoSchema.parse((await call('GET', '/api/system/version')).body).version).toBe('1.4.0-beta.2')

    const run = await waitFor<Run>('the run to end', async () => {
      const read = await call('GET', `/api/system/updates/${runId}`).catch(() => null)
      if (read?.status !== 200) return undefined
      const parsed = runSchema.parse(read.body)
      return isActiveStatus(parsed.status) ? undefined : parsed
    }, 120_000)
    expect(run, stack.output()).toMatchObject({ status: 'rolled_back', toVersion: '1.4.0-beta.2' })
    const watch = run.steps.find(s => s.name === 'watch')!
    expect(watch.status).toBe('failed')
    expect(watch.error).toMatch(/^sample \d+ of the watch window \([\d.]+ s of 25 s\) failed: web: \/api\/healthz answered 503$/)
    expect(run.reason).toBe(`watch failed: ${watch.error}; restored 1.2.2`)
    // It fell over about 15 s after verify saw it healthy, inside the window.
    expect(watch.endedAt! - watch.startedAt!).toBeGreaterThan(5_000)
    expect(watch.endedAt! - watch.startedAt!).toBeLessThan(WATCH_MS)
    expect(run.steps.find(s => s.name === 'commit')?.status).toBe('pending')
    expect(run.steps.find(s => s.name === 'verify-restore')?.status).toBe('succeeded')
    // The web's own words on why, kept with the step.
    expect(watch.log.join('\n')).toContain('health check failed: this demo release is built to fall over 15 s after it first answered healthy')
    expect(versionInfoSchema.parse((await call('GET', '/api/system/version')).body).version).toBe('1.2.2')
  })
})
