import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ReplayGuard, verifyIncomingRequest } from '../../shared/request-signing'
import type { JobRequest } from '../../shared/schemas/job'
import { createSidecarClient, SidecarRejectedError, SidecarUnreachableError, type SidecarClient } from '../../server/utils/sidecar'

const SECRET = 'test-instance-secret-0123456789'

interface Seen { method: string, url: string, body: string, verified: boolean }
type Reply = (req: IncomingMessage, body: string) => { status: number, body: string }

let server: Server
let seen: Seen[]
let reply: Reply
let client: SidecarClient
let baseUrl: string

beforeEach(async () => {
  seen = []
  reply = () => ({ status: 200, body: '{}' })
  const replay = new ReplayGuard()
  server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8')
      const check = verifyIncomingRequest(req, body, SECRET, replay)
      seen.push({ method: req.method ?? '', url: req.url ?? '', body, verified: check.ok })
      const out = check.ok ? reply(req, body) : { status: 401, body: JSON.stringify({ error: check.reason }) }
      res.writeHead(out.status, { 'content-type': 'application/json' }).end(out.body)
    })
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  client = createSidecarClient({ baseUrl, secret: () => SECRET })
})

afterEach(async () => {
  await new Promise(resolve => server.close(resolve))
})

const request: JobRequest = {
  runId: 'run-1',
  kind: 'update',
  targetVersion: '1.3.0',
  manifest: Buffer.from('{}').toString('base64'),
  signature: 'c2ln',
  compose: 'services: {}\n',
  requestedBy: { email: 'a@example.com', via: 'web' },
}

describe('sidecar client', () => {
  it('signs a job request over the exact body and parses the answer', async () => {
    reply = () => ({ status: 202, body: JSON.stringify({ jobId: 'job-7' }) })
    expect(await client.createJob(request)).toEqual({ jobId: 'job-7' })
    expect(seen).toHaveLength(1)
    expect(seen[0]).toMatchObject({ method: 'POST', url: '/v1/jobs', verified: true })
    // The defaults travel explicitly: a backup first, no data restore.
    expect(JSON.parse(seen[0]!.body)).toEqual({ ...request, force: false, backup: true, restoreBackupJobId: null })
  })

  it('signs GETs and parses a health answer', async () => {
    const health = { version: '1.2.2', driver: 'local', services: [{ name: 'web', image: 'ghcr.io/owlat/web:1.2.2', version: '1.2.2', state: 'running', health: 'healthy' }] }
    reply = () => ({ status: 200, body: JSON.stringify(health) })
    // An updater that does not report backup support is taken as one that cannot restore data.
    expect(await client.health()).toEqual({ ...health, backups: { supported: false, reason: 'the updater does not report backup support' } })
    expect(seen[0]).toMatchObject({ method: 'GET', url: '/v1/health', verified: true })
  })

  it('lists recent jobs with a signed GET, limit in the signed path, clamped to what the sidecar allows', async () => {
    const job = {
      id: 'job-1', runId: null, kind: 'update', fromVersion: '1.2.2', toVersion: '1.3.0', status: 'running', reason: null,
      requestedBy: { email: null, via: 'cli' }, createdAt: 1, startedAt: 2, endedAt: null, steps: [],
    }
    reply = () => ({ status: 200, body: JSON.stringify({ jobs: [job] }) })
    expect(await client.listJobs(20)).toEqual([job])
    await client.listJobs(500)
    expect(seen.map(s => [s.url, s.verified])).toEqual([['/v1/jobs?limit=20', true], ['/v1/jobs?limit=100', true]])
    reply = () => ({ status: 200, body: JSON.stringify({ jobs: [{ ...job, status: 'paused' }] }) })
    await expect(client.listJobs(20)).rejects.toMatchObject({ status: 502 })
  })

  it('reports a rejection with the status and the sidecar\'s reason', async () => {
    reply = () => ({ status: 409, body: JSON.stringify({ error: 'a job is already active' }) })
    const err = await client.createJob(request).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(SidecarRejectedError)
    expect(err).toMatchObject({ status: 409, message: 'a job is already active' })
  })

  it('reports a 404 for an unknown job', async () => {
    reply = () => ({ status: 404, body: JSON.stringify({ error: 'no such job' }) })
    await expect(client.getJob('nope')).rejects.toMatchObject({ status: 404 })
    expect(seen[0]!.url).toBe('/v1/jobs/nope')
  })

  it('treats an answer that does not match the schema as a rejection', async () => {
    reply = () => ({ status: 200, body: JSON.stringify({ id: 'x' }) })
    await expect(client.getJob('x')).rejects.toMatchObject({ status: 502, message: expect.stringMatching(/unexpected answer/) })
  })

  it('is refused with a wrong secret', async () => {
    const wrong = createSidecarClient({ baseUrl, secret: () => 'some-other-secret-0123456789' })
    await expect(wrong.health()).rejects.toMatchObject({ status: 401, message: expect.stringMatching(/bad request signature/) })
  })

  it('refuses a job request that does not match the schema before sending', async () => {
    await expect(client.createJob({ ...request, targetVersion: 'latest' })).rejects.toThrow(/semantic version/)
    expect(seen).toHaveLength(0)
  })

  it('tells an unreachable sidecar apart', async () => {
    // A port that was free a moment ago: nothing answers there.
    const probe = createServer()
    await new Promise<void>(resolve => probe.listen(0, '127.0.0.1', resolve))
    const port = (probe.address() as AddressInfo).port
    await new Promise(resolve => probe.close(resolve))
    const gone = createSidecarClient({ baseUrl: `http://127.0.0.1:${port}`, secret: () => SECRET })
    await expect(gone.health()).rejects.toBeInstanceOf(SidecarUnreachableError)
  })
})
