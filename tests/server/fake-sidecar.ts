/**
 * A loopback HTTP server standing in for the updater sidecar in unit tests: it checks request
 * signatures like the real one and answers `POST /v1/jobs`, `GET /v1/jobs?limit=N` and
 * `GET /v1/jobs/:id` with the sidecar's JSON shapes, from jobs the test puts in `jobs`.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { ReplayGuard, verifyIncomingRequest } from '../../shared/request-signing'
import { jobRequestSchema, type Job, type JobRequest } from '../../shared/schemas/job'
import { createSidecarClient, type SidecarClient } from '../../server/utils/sidecar'

export const FAKE_SECRET = 'fake-sidecar-instance-secret-0123456789'

/**
 * What `POST /v1/jobs` does with a well-formed request: `accept` answers 202; `accept-then-drop`
 * journals the job, then cuts the connection without answering; `accept-then-hang` journals it
 * and never answers; `refuse` answers 409 like a sidecar with a job active.
 */
export type CreateBehaviour = 'accept' | 'accept-then-drop' | 'accept-then-hang' | 'refuse'

export interface FakeSidecar {
  url: string
  /** The journal, oldest first (the list answers newest first). */
  jobs: Map<string, Job>
  /** `METHOD path` of every request that reached the server, in order. */
  requests: string[]
  onCreate: CreateBehaviour
  /** When true, every connection is cut without an answer (a sidecar going down). */
  down: boolean
  client: (opts?: { timeoutMs?: number }) => SidecarClient
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

  const route = (req: IncomingMessage, res: ServerResponse, body: string) => {
    const url = new URL(req.url ?? '/', 'http://fake.invalid')
    const check = verifyIncomingRequest(req, body, FAKE_SECRET, replay)
    if (!check.ok) return send(res, 401, { error: check.reason })
    if (url.pathname === '/v1/jobs' && req.method === 'POST') {
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
    const match = /^\/v1\/jobs\/([\w-]+)$/.exec(url.pathname)
    if (match && req.method === 'GET') {
      const job = fake.jobs.get(match[1]!)
      return job ? send(res, 200, job) : send(res, 404, { error: `no job ${match[1]}` })
    }
    send(res, 404, { error: `no route ${url.pathname}` })
  }

  const server = createServer((req, res) => {
    fake.requests.push(`${req.method} ${req.url}`)
    if (fake.down) return req.socket.destroy()
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => route(req, res, Buffer.concat(chunks).toString('utf8')))
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`

  const fake: FakeSidecar = {
    url,
    jobs: new Map(),
    requests: [],
    onCreate: 'accept',
    down: false,
    client: opts => createSidecarClient({ baseUrl: url, secret: () => FAKE_SECRET, timeoutMs: opts?.timeoutMs }),
    close: async () => {
      server.closeAllConnections()
      await new Promise(resolve => server.close(resolve))
    },
  }
  return fake
}
