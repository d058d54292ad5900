/**
 * A loopback HTTP server standing in for the updater sidecar where the real one cannot give the
 * answer a test needs (a dropped dispatch, a garbled answer, a cut event stream): it checks
 * request signatures like the real one and answers with the sidecar's JSON shapes, from jobs and
 * events the test puts in.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { NONCE_HEADER, ReplayGuard, verifyIncomingRequest } from '../../shared/request-signing'
import { jobRequestSchema, type Job, type JobEvent, type JobRequest } from '../../shared/schemas/job'
import { createSidecarClient, type SidecarClient } from '../../server/utils/sidecar'

export const FAKE_SECRET = 'fake-sidecar-instance-secret-0123456789'

/**
 * What `POST /v1/jobs` does with a well-formed request: `accept` answers 202; `accept-then-drop`
 * journals the job, then cuts the connection without answering; `accept-then-hang` journals it
 * and never answers; `refuse` answers 409 like a sidecar with a job active.
 */
export type CreateBehaviour = 'accept' | 'accept-then-drop' | 'accept-then-hang' | 'refuse'

/** A canned answer: what a route answers instead of the fake's own. */
export type Override = (req: { method: string, url: string, body: string }) => { status: number, body: unknown } | undefined

export interface FakeSidecar {
  url: string
  /** The journal, oldest first (the list answers newest first). */
  jobs: Map<string, Job>
  /** Events of each job's stream, by sequence (1 = the first). */
  events: Map<string, JobEvent[]>
  /** `METHOD path` of every request that reached the server, in order. */
  requests: string[]
  /** `POST /v1/jobs` bodies as received. */
  bodies: string[]
  /** Why each refused request was refused. */
  refusals: string[]
  /** The `Last-Event-ID` of each event-stream request (null without one). */
  eventRequests: Array<string | null>
  /** The first stream request ends after this many events, without the terminal one. */
  cutAfter: number | null
  onCreate: CreateBehaviour
  /** When true, every connection is cut without an answer (a sidecar going down). */
  down: boolean
  /** Checks signatures as an updater from before the nonce does (ignoring `X-Owlat-Nonce`). */
  beforeNonce: boolean
  health: unknown
  /** Sent as the `Date` header when set. */
  date: string | null
  override: Override | null
  client: (opts?: { timeoutMs?: number, secret?: string }) => SidecarClient
  close: () => Promise<void>
}

/** A sidecar job with the fields a test does not care about filled in. */
export function makeJob(id: string, patch: Partial<Job> = {}): Job {
  return {
    id,
    runId: null,
    kind: 'update',
    fromVersion: '1.2.2',
    toVersion: '1.3.0',
    status: 'queued',
    reason: null,
    requestedBy: { email: 'ops@example.com', via: 'cli' },
    createdAt: 1_000,
    startedAt: null,
    endedAt: null,
    steps: [],
    ...patch,
  }
}

export async function startFakeSidecar(): Promise<FakeSidecar> {
  const replay = new ReplayGuard()
  let nextId = 1

  const send = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body))
  }

  const accept = (request: JobRequest): Job => {
    const job = makeJob(`job-${nextId++}`, {
      runId: request.runId,
      kind: request.kind,
      toVersion: request.targetVersion,
      requestedBy: request.requestedBy,
      createdAt: Date.now(),
    })
    fake.jobs.set(job.id, job)
    return job
  }

  const stream = (req: IncomingMessage, res: ServerResponse, jobId: string) => {
    const last = req.headers['last-event-id'] as string | undefined
    fake.eventRequests.push(last ?? null)
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    const from = last === undefined ? 0 : Number(last)
    const cut = fake.eventRequests.length === 1 ? fake.cutAfter : null
    res.write(': connected\n\nevent: heartbeat\ndata: \n\n')
    ;(fake.events.get(jobId) ?? []).forEach((event, i) => {
      const seq = i + 1
      if (seq <= from || (cut !== null && seq > cut)) return
      res.write(`id: ${seq}\ndata: ${JSON.stringify(event)}\n\n`)
    })
    // A cut ends without the terminal event, as a sidecar restart would.
    res.end()
  }

  const route = (req: IncomingMessage, res: ServerResponse, body: string) => {
    const url = new URL(req.url ?? '/', 'http://fake.invalid')
    const signed = fake.beforeNonce ? { ...req, headers: { ...req.headers, [NONCE_HEADER]: undefined } } : req
    const check = verifyIncomingRequest(signed, body, FAKE_SECRET, replay)
    if (!check.ok) {
      fake.refusals.push(check.reason)
      return send(res, 401, { error: check.reason })
    }
    const canned = fake.override?.({ method: req.method ?? 'GET', url: req.url ?? '/', body })
    if (canned) return send(res, canned.status, canned.body)
    if (url.pathname === '/v1/health' && req.method === 'GET') return send(res, 200, fake.health)
    if (url.pathname === '/v1/jobs' && req.method === 'POST') {
      fake.bodies.push(body)
      const parsed = jobRequestSchema.safeParse(JSON.parse(body))
      if (!parsed.success) return send(res, 400, { error: parsed.error.message })
      if (fake.onCreate === 'refuse') return send(res, 409, { error: 'a job is still running' })
      const job = accept(parsed.data)
      if (fake.onCreate === 'accept-then-drop') return req.socket.destroy()
      // Held open until `close()`: the client gives up on its own timeout.
      if (fake.onCreate === 'accept-then-hang') return
      return send(res, 202, { jobId: job.id })
    }
    if (url.pathname === '/v1/jobs' && req.method === 'GET') {
      const limit = Number(url.searchParams.get('limit') ?? 20)
      return send(res, 200, { jobs: [...fake.jobs.values()].reverse().slice(0, limit) })
    }
    const match = /^\/v1\/jobs\/([\w-]+)(\/events)?$/.exec(url.pathname)
    if (match && req.method === 'GET') {
      const job = fake.jobs.get(match[1]!)
      if (!job) return send(res, 404, { error: `no job ${match[1]}` })
      return match[2] ? stream(req, res, job.id) : send(res, 200, job)
    }
    send(res, 404, { error: `no route ${url.pathname}` })
  }

  const server = createServer((req, res) => {
    fake.requests.push(`${req.method} ${req.url}`)
    if (fake.down) return req.socket.destroy()
    if (fake.date) res.setHeader('date', fake.date)
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => route(req, res, Buffer.concat(chunks).toString('utf8')))
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`

  const fake: FakeSidecar = {
    url,
    jobs: new Map(),
    events: new Map(),
    requests: [],
    bodies: [],
    refusals: [],
    eventRequests: [],
    cutAfter: null,
    onCreate: 'accept',
    down: false,
    beforeNonce: false,
    health: { version: '1.2.2', driver: 'local', services: [] },
    date: null,
    override: null,
    client: opts => createSidecarClient({ baseUrl: url, secret: () => opts?.secret ?? FAKE_SECRET, timeoutMs: opts?.timeoutMs }),
    close: async () => {
      server.closeAllConnections()
      await new Promise(resolve => server.close(resolve))
    },
  }
  return fake
}
