/**
 * The web configured for a Convex backend that is not there: it starts, answers every request
 * that needs the store with a 503 that names the backend, says so in its log, and keeps running
 * (no crash loop). The real built web, started by the real sidecar.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { signRequest } from '../../shared/request-signing'
import { freePort } from '../cli/helpers'
import { ADMIN, startStack, UPDATER_PORT, WEB, type Stack } from './stack'

describe('web with an unreachable Convex backend', () => {
  let stack: Stack
  let convexUrl: string

  beforeAll(async () => {
    convexUrl = `http://127.0.0.1:${await freePort()}`
    stack = await startStack({ env: { OWLAT_CONVEX_URL: convexUrl, OWLAT_CONVEX_ADMIN_KEY: 'owlat|0123456789abcdef' } })
  })

  afterAll(async () => {
    await stack?.stop()
  })

  it('answers sign-in with a 503 that names the backend, and keeps serving', async () => {
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${WEB}/api/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(ADMIN),
      })
      expect(res.status).toBe(503)
      const body = await res.json() as { message: string }
      expect(body.message).toContain(`the Convex backend at ${convexUrl} is unreachable`)
    }
    expect((await fetch(`${WEB}/api/healthz`)).status).toBe(200)
  })

  it('says so in the web\'s log, without the web restarting', async () => {
    const path = '/v1/services/web/logs?tail=500'
    const res = await fetch(`http://127.0.0.1:${UPDATER_PORT}${path}`, { headers: signRequest({ secret: stack.secret, method: 'GET', path }) })
    expect(res.status).toBe(200)
    const { lines } = await res.json() as { lines: string[] }
    expect(lines.join('\n')).toContain(`the Convex backend at ${convexUrl} is unreachable`)
    // The sidecar logs every unexpected exit of the web it supervises: none means no crash loop.
    expect(stack.output()).not.toContain('exited unexpectedly')
  })
})
