/**
 * The CLI's sidecar client and job follower against a real HTTP server that checks signatures
 * with the shared verifier, so signing, replay safety and error mapping are tested end to end.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { followJob } from '../../cli/follow'
import { JobPrinter } from '../../cli/job-view'
import { SidecarClient, SidecarRequestError } from '../../cli/sidecar-client'
import { ReplayGuard, verifyIncomingRequest } from '../../shared/request-signing'
import type { Job, JobEvent } from '../../shared/schemas/job'
import { JOB_STEPS, STEP_LABELS } from '../../shared/steps'

const SECRET = 'a-test-secret-that-is-long-enough-1234'

function job(status: Job['status'], running: string | null = null): Job {
  return {
    id: 'job-1',
    runId: null,
    kind: 'update',
    fromVersion: '1.2.2',
    toVersion: '1.3.0',
    status,
    reason: status === 'failed' ? 'pull failed' : null,
    requestedBy: { email: 'ops@host', via: 'cli' },
    createdAt: 1,
    startedAt: 1,
    endedAt: status === 'succeeded' || status === 'failed' ? 9 : null,
    steps: JOB_STEPS.map(name => ({
      name,
      status: status === 'succeeded' ? 'succeeded' : name === running ? 'running' : 'pending',
      startedAt: status === 'succeeded' || name === running ? 1 : null,
      endedAt: status === 'succeeded' ? 2 : null,
      log: [],
      error: null,
    })),
  }
}

/** What the fake sidecar streams for job-1, by sequence number. */
const EVENTS: JobEvent[] = [
  { type: 'job', job: job('running', 'preflight') },
  { type: 'log', step: 'preflight', line: 'checking' },
  { type: 'log', step: 'preflight', line: 'stack is healthy' },
  { type: 'job', job: job('running', 'pull') },
  { type: 'log', step: 'pull', line: 'pulled web' },
  { type: 'job', job: job('succeeded') },
]

interface FakeState {
  unauthorized: number
  eventRequests: Array<string | null>
  /** Events to send before dropping the connection on the first stream request. */
  cutAfter: number | null
  health: unknown
  dateHeader: string | null
}

describe('SidecarClient', () => {
  let server: Server
  let url: string
  const state: FakeState = { unauthorized: 0, eventRequests: [], cutAfter: null, health: null, dateHeader: null }
  const replay = new ReplayGuard()

  function handle(req: IncomingMessage, res: ServerResponse, body: Buffer): void {
    if (state.dateHeader) res.setHeader('date', state.dateHeader)
    const check = verifyIncomingRequest(req, body, SECRET, replay)
    const json = (status: number, value: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' })
      res.end(JSON.stringify(value))
    }
    if (!check.ok) {
      state.unauthorized += 1
      return json(401, { error: check.reason })
    }
    if (req.url === '/v1/health') return json(200, state.health)
    if (req.url === '/v1/jobs?limit=3') return json(200, { jobs: [job('succeeded')] })
    if (req.url === '/v1/jobs' && req.method === 'POST') return json(409, { error: 'job job-0 (update to 1.3.0) is still running' })
    if (req.url === '/v1/jobs/job-1') return json(200, job('succeeded'))
    if (req.url === '/v1/jobs/job-1/events') {
      const last = req.headers['last-event-id'] as string | undefined
      state.eventRequests.push(last ?? null)
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      const from = last === undefined ? 0 : Number(last)
      const cut = state.eventRequests.length === 1 ? state.cutAfter : null
      EVENTS.forEach((event, i) => {
        const seq = i + 1
        if (seq <= from || (cut !== null && seq > cut)) return
        res.write(`id: ${seq}\ndata: ${JSON.stringify(event)}\n\n`)
      })
      // Cut: end without the terminal event, as a sidecar restart would.
      res.end()
      return
    }
    json(404, { error: `no route ${req.url}` })
  }

  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => handle(req, res, Buffer.concat(chunks)))
    })
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })

  afterAll(() => new Promise<void>(resolve => server.close(() => resolve())))

  beforeEach(() => {
    state.unauthorized = 0
    state.eventRequests = []
    state.cutAfter = null
    state.health = { version: '1.2.2', driver: 'local', services: [] }
    state.dateHeader = null
  })

  it('signs requests and parses answers with the shared schemas', async () => {
    const client = new SidecarClient({ url: `${url}/`, secret: SECRET })
    // An updater that does not report backup support is taken as one that cannot restore data.
    expect(await client.health()).toEqual({ version: '1.2.2', driver: 'local', services: [], backups: { supported: false, reason: 'the updater does not report backup support' } })
    expect((await client.listJobs(3)).map(j => j.id)).toEqual(['job-1'])
    expect(state.unauthorized).toBe(0)
  })

  it('never reuses a signature, even for identical requests in the same millisecond', async () => {
    const client = new SidecarClient({ url, secret: SECRET })
    await Promise.all(Array.from({ length: 25 }, () => client.health()))
    expect(state.unauthorized).toBe(0)
  })

  it('maps 401 to the instance-secret message and keeps the sidecar\'s reason', async () => {
    const client = new SidecarClient({ url, secret: 'not-the-secret-but-long-enough' })
    const err = await client.health().catch((e: unknown) => e)
    expect(err).toBeInstanceOf(SidecarRequestError)
    expect((err as SidecarRequestError).message).toBe('the updater refused the instance secret: check OWLAT_INSTANCE_SECRET')
    expect((err as SidecarRequestError).kind).toBe('unauthorized')
    expect((err as SidecarRequestError).detail).toMatch(/bad request signature/)
  })

  it('reports an answer that does not match the schema instead of passing it on', async () => {
    state.health = { version: '1.2.2', driver: 'kubernetes', services: [] }
    await expect(new SidecarClient({ url, secret: SECRET }).health()).rejects.toThrow(/unexpected answer to GET \/v1\/health \(driver: .*\): are the CLI and the updater the same version\?/)
  })

  it('keeps the status and reason of a refused job', async () => {
    const err = await new SidecarClient({ url, secret: SECRET }).createJob({
      runId: null, kind: 'update', targetVersion: '1.3.0', manifest: 'e30=', signature: 'x', compose: 'x', requestedBy: { email: null, via: 'cli' },
    }).catch((e: unknown) => e)
    expect(err).toMatchObject({ status: 409, detail: 'job job-0 (update to 1.3.0) is still running' })
  })

  it('maps an unreachable updater to one line naming the URL', async () => {
    const closed = createServer()
    await new Promise<void>(resolve => closed.listen(0, '127.0.0.1', resolve))
    const port = (closed.address() as AddressInfo).port
    await new Promise<void>(resolve => closed.close(() => resolve()))
    await expect(new SidecarClient({ url: `http://127.0.0.1:${port}`, secret: SECRET }).health())
      .rejects.toThrow(`cannot reach the updater at http://127.0.0.1:${port}: is it running? (ECONNREFUSED)`)
  })

  it('remembers the sidecar\'s clock from the Date header, even on a refusal', async () => {
    state.dateHeader = new Date(Date.UTC(2030, 0, 1)).toUTCString()
    const client = new SidecarClient({ url, secret: 'not-the-secret-but-long-enough' })
    await client.health().catch(() => undefined)
    expect(client.lastClock?.server).toBe(Date.UTC(2030, 0, 1))
  })

  describe('followJob', () => {
    function recorder() {
      const lines: string[] = []
      return { lines, printer: new JobPrinter(line => lines.push(line)) }
    }

    it('prints step transitions and log lines, and returns the finished job', async () => {
      const { lines, printer } = recorder()
      const finished = await followJob(new SidecarClient({ url, secret: SECRET }), 'job-1', printer, { signal: new AbortController().signal })
      expect(finished.status).toBe('succeeded')
      expect(lines).toEqual([
        '▸ Preflight checks…',
        '  preflight │ checking',
        '  preflight │ stack is healthy',
        '▸ Pull images…',
        '  pull │ pulled web',
        ...JOB_STEPS.map(name => `✔ ${STEP_LABELS[name]} (1 ms)`),
      ])
      expect(state.eventRequests).toEqual([null])
    })

    it('resumes from the last event id after the stream drops, printing nothing twice', async () => {
      state.cutAfter = 3
      const { lines, printer } = recorder()
      const finished = await followJob(new SidecarClient({ url, secret: SECRET }), 'job-1', printer, { signal: new AbortController().signal, reconnectDelayMs: 1 })
      expect(finished.status).toBe('succeeded')
      expect(state.eventRequests).toEqual([null, '3'])
      expect(lines.filter(l => l === '  preflight │ checking')).toHaveLength(1)
      expect(lines.filter(l => l === '  pull │ pulled web')).toHaveLength(1)
    })
  })
})
