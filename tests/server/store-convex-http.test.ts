/**
 * The Convex store over HTTP, as production runs it: the real `ConvexHttpClient` against a
 * loopback server that speaks the part of Convex's HTTP API the client uses (`POST /api/query`,
 * `POST /api/mutation`), plus the configuration that selects it.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { loadConfig } from '../../shared/config'
import { ConvexUnavailableError, convexHttpCaller, createConvexStore, type ConvexHttpOptions } from '../../server/utils/store/convex'
import { ActiveRunError } from '../../server/utils/store/types'
import { newRun } from './store-contract'

interface Received {
  endpoint: string
  authorization: string | undefined
  path: string
  args: unknown
}

type Answer
  = | { status: 'success', value: unknown }
    | { status: 'error', errorMessage: string, errorData?: unknown }
    | { http: number, body: string }

let server: Server
let url: string
let received: Received[]
let answer: (request: Received) => Answer

beforeEach(async () => {
  received = []
  answer = () => ({ status: 'success', value: null })
  server = createServer((req, res) => {
    let body = ''
    req.on('data', (chunk: Buffer) => {
      body += chunk.toString('utf8')
    })
    req.on('end', () => {
      const parsed = JSON.parse(body) as { path: string, args: unknown[] }
      const request = { endpoint: req.url ?? '', authorization: req.headers.authorization, path: parsed.path, args: parsed.args[0] }
      received.push(request)
      const reply = answer(request)
      if ('http' in reply) {
        res.writeHead(reply.http, { 'content-type': 'text/plain' }).end(reply.body)
        return
      }
      // Convex answers a function's own error with status 560 and the error in the body.
      res.writeHead(reply.status === 'success' ? 200 : 560, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ ...reply, logLines: [] }))
    })
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

afterEach(async () => {
  await new Promise<void>(resolve => server.close(() => resolve()))
})

function store(extra: Partial<ConvexHttpOptions> = {}) {
  return createConvexStore(convexHttpCaller({ url, adminKey: 'convex-self-hosted|secret-admin-key', onUnavailable: () => {}, ...extra }))
}

describe('the Convex store over HTTP', () => {
  it('calls the component through the app\'s exposed functions, naming the component function, with the admin key', async () => {
    const run = { ...newRun, id: 'r1', jobId: null, status: 'queued', reason: null, startedAt: 1, endedAt: null, steps: [] }
    answer = req => ({ status: 'success', value: (req.args as { fn: string }).fn === 'runs:open' ? run : null })
    const s = store()
    expect(await s.getActiveRun()).toBeNull()
    expect(await s.openRun(newRun)).toEqual(run)
    expect(received).toEqual([
      { endpoint: '/api/query', authorization: 'Convex convex-self-hosted|secret-admin-key', path: 'owlatSystem:query', args: { fn: 'runs:getActive', args: {} } },
      { endpoint: '/api/mutation', authorization: 'Convex convex-self-hosted|secret-admin-key', path: 'owlatSystem:mutation', args: { fn: 'runs:open', args: newRun } },
    ])
  })

  it('uses the app module the host chose', async () => {
    await store({ module: 'system' }).getSettings()
    expect(received.map(r => r.path)).toEqual(['system:query'])
  })

  it('says what a host must add when its app does not expose the component', async () => {
    answer = () => ({ status: 'error', errorMessage: 'Could not find public function for \'owlatSystem:query\'. Did you forget to run `npx convex dev` or `npx convex deploy`?' })
    await expect(store().getSettings()).rejects.toThrow(`the Convex app at ${url} does not expose the System & Updates component as owlatSystem:query and owlatSystem:mutation (add convex/owlatSystem.ts with exposeOwlatSystem, see the README)`)
  })

  it('sends only the fields the validators accept', async () => {
    const s = store()
    await s.updateRun('r1', { status: 'failed', reason: undefined })
    await s.adoptJob({
      id: 'j', runId: null, kind: 'update', fromVersion: '1.0.0', toVersion: '1.1.0', status: 'failed', reason: 'x',
      requestedBy: { email: null, via: 'cli' }, createdAt: 1, startedAt: null, endedAt: 2, steps: [],
      // A newer sidecar may add fields; Convex would refuse the whole call for one unknown field.
      ...{ extra: true },
    })
    expect(received[0]!.args).toEqual({ fn: 'runs:update', args: { runId: 'r1', patch: { status: 'failed' } } })
    expect(received[1]!.args).toEqual({ fn: 'runs:adoptJob', args: { job: expect.not.objectContaining({ extra: true }) } })
  })

  it('turns a refusal from a function back into the store\'s typed error', async () => {
    answer = () => ({ status: 'error', errorMessage: 'Uncaught ConvexError: {...}', errorData: { code: 'ACTIVE_RUN', activeRunId: 'r0' } })
    const err = await store().openRun(newRun).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ActiveRunError)
    expect((err as ActiveRunError).activeRunId).toBe('r0')
  })

  it('passes other function errors through', async () => {
    answer = () => ({ status: 'error', errorMessage: 'Server Error' })
    await expect(store().getSettings()).rejects.toThrow('Server Error')
  })

  it('says which backend is unreachable and why', async () => {
    await new Promise<void>(resolve => server.close(() => resolve()))
    server = createServer()
    const err = await store().getSettings().catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ConvexUnavailableError)
    expect((err as Error).message).toMatch(new RegExp(`^the Convex backend at ${url} is unreachable: .*ECONNREFUSED`))
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  })

  it('says when the backend refuses the admin key', async () => {
    answer = () => ({ http: 401, body: '{"code":"BadAdminKey","message":"The provided admin key was invalid"}' })
    await expect(store().getSettings()).rejects.toThrow(`the Convex backend at ${url} refused the admin key (OWLAT_CONVEX_ADMIN_KEY): HTTP 401 {"code":"BadAdminKey"`)
  })

  it('reports an outage once, and its end once, whatever the number of failing calls', async () => {
    const events: string[] = []
    let down = true
    answer = () => (down ? { http: 502, body: 'Bad Gateway' } : { status: 'success', value: { channel: 'beta' } })
    const s = store({
      onUnavailable: err => events.push(`down: ${err.message}`),
      onAvailable: u => events.push(`up: ${u}`),
      toError: err => new Error(`503: ${err.message}`),
    })
    const failures = await Promise.allSettled([s.getSettings(), s.getSettings(), s.isDismissed('u', '1.0.0')])
    for (const f of failures) expect(f).toMatchObject({ status: 'rejected', reason: { message: `503: the Convex backend at ${url} is unreachable: it answered HTTP 502` } })
    await expect(s.getSettings()).rejects.toThrow('503')
    down = false
    expect(await s.getSettings()).toMatchObject({ channel: 'beta' })
    expect(await s.getSettings()).toMatchObject({ channel: 'beta' })
    expect(events).toEqual([`down: the Convex backend at ${url} is unreachable: it answered HTTP 502`, `up: ${url}`])
  })
})

describe('choosing Convex in the configuration', () => {
  const base = { OWLAT_DATA_DIR: '/tmp/owlat-config-test' }

  it('uses Convex only with both the URL and the admin key; empty means unset', () => {
    expect(loadConfig(base).convex).toBeNull()
    expect(loadConfig({ ...base, OWLAT_CONVEX_URL: '', OWLAT_CONVEX_ADMIN_KEY: ' ' }).convex).toBeNull()
    expect(loadConfig({ ...base, OWLAT_CONVEX_URL: 'http://convex:3210', OWLAT_CONVEX_ADMIN_KEY: 'k' }).convex)
      .toEqual({ url: 'http://convex:3210', adminKey: 'k' })
  })

  it('refuses one without the other, naming the missing variable', () => {
    expect(() => loadConfig({ ...base, OWLAT_CONVEX_URL: 'http://convex:3210' }))
      .toThrow('invalid configuration: OWLAT_CONVEX_ADMIN_KEY: required when OWLAT_CONVEX_URL is set')
    expect(() => loadConfig({ ...base, OWLAT_CONVEX_ADMIN_KEY: 'k' }))
      .toThrow('invalid configuration: OWLAT_CONVEX_URL: required when OWLAT_CONVEX_ADMIN_KEY is set')
    expect(() => loadConfig({ ...base, OWLAT_CONVEX_URL: 'not a url', OWLAT_CONVEX_ADMIN_KEY: 'k' })).toThrow(/OWLAT_CONVEX_URL/)
  })
})
