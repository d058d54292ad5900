/**
 * The one sidecar client (web, CLI, tests) against a loopback server that checks signatures with
 * the shared verifier: signing, replay safety, schemas, the event stream and its errors.
 */
import { createServer } from 'node:net'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { SidecarClient, SidecarRejectedError, SidecarUnreachableError } from '../../../shared/sidecar-client'
import type { Job, JobEvent, JobRequest } from '../../../shared/schemas/job'
import { FAKE_SECRET, makeJob, startFakeSidecar, type FakeSidecar } from '../../server/fake-sidecar'

let fake: FakeSidecar
let client: SidecarClient

beforeEach(async () => {
  fake = await startFakeSidecar()
  client = new SidecarClient({ url: `${fake.url}/`, secret: FAKE_SECRET })
})

afterEach(async () => {
  await fake.close()
})

const request: JobRequest = {
  runId: 'run-1',
  kind: 'update',
  targetVersion: '1.3.0',
  manifest: Buffer.from('{}').toString('base64'),
  signature: 'c2ln',
  compose: 'services: {}\n',
  requestedBy: { email: 'a@example.com', via: 'web' },
  index: { text: '{}', signature: 'c2ln' },
}

async function closedPort(): Promise<number> {
  const probe = createServer()
  await new Promise<void>(resolve => probe.listen(0, '127.0.0.1', resolve))
  const { port } = probe.address() as { port: number }
  await new Promise(resolve => probe.close(resolve))
  return port
}

describe('SidecarClient', () => {
  it('signs a job request over the exact body, defaults included, and parses the answer', async () => {
    expect(await client.createJob(request)).toEqual({ jobId: 'job-1' })
    expect(fake.refusals).toEqual([])
    expect(JSON.parse(fake.bodies[0]!)).toEqual({ ...request, force: false, backup: true, restoreBackupJobId: null, channel: 'stable', retryFailed: false, releases: [], override: null, stops: [] })
  })

  it('refuses a job request that does not match the schema before sending', async () => {
    await expect(client.createJob({ ...request, targetVersion: 'latest' })).rejects.toThrow(/semantic version/)
    expect(fake.requests).toEqual([])
  })

  it('takes an updater that does not report backup support as one that cannot restore data, and one that does not report rehearsals as one that can rehearse', async () => {
    expect(await client.health()).toEqual({ version: '1.2.2', driver: 'local', services: [], backups: { supported: false, reason: 'the updater does not report backup support' }, rehearsals: { supported: true, reason: null }, host: null, indexSerial: null })
  })

  it('puts the limit in the signed path, clamped to what the sidecar allows', async () => {
    fake.jobs.set('job-1', makeJob('job-1', { status: 'running' }))
    expect((await client.listJobs(20)).map(j => j.id)).toEqual(['job-1'])
    await client.listJobs(500)
    await client.listJobs(0)
    expect(fake.requests).toEqual(['GET /v1/jobs?limit=20', 'GET /v1/jobs?limit=100', 'GET /v1/jobs?limit=1'])
    expect(fake.refusals).toEqual([])
  })

  it('never signs two requests alike: 50 identical reads at once all pass', async () => {
    await Promise.all(Array.from({ length: 50 }, () => client.health()))
    expect(fake.refusals).toEqual([])
    expect(fake.requests).toHaveLength(50)
  })

  it('asks an updater from before the nonce once more in its form, and only then', async () => {
    fake.beforeNonce = true
    expect((await client.health()).version).toBe('1.2.2')
    expect(fake.refusals).toEqual(['bad request signature (wrong instance secret?)'])
    expect(fake.requests).toHaveLength(2)
  })

  it('reports a refusal with the status and the sidecar\'s reason', async () => {
    fake.onCreate = 'refuse'
    const err = await client.createJob(request).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(SidecarRejectedError)
    expect(err).toMatchObject({ status: 409, detail: 'a job is still running', message: 'a job is still running', request: 'POST /v1/jobs' })
    await expect(client.getJob('nope')).rejects.toMatchObject({ status: 404, detail: 'no job nope' })
  })

  it('is refused with a wrong secret, keeping the reason', async () => {
    const wrong = new SidecarClient({ url: fake.url, secret: () => 'some-other-secret-0123456789' })
    await expect(wrong.health()).rejects.toMatchObject({ status: 401, detail: 'bad request signature (wrong instance secret?)' })
  })

  it('treats an answer that does not match the schema as a rejection (502), naming the field', async () => {
    fake.health = { version: '1.2.2', driver: 7, services: [] }
    const err = await client.health().catch((e: unknown) => e)
    expect(err).toMatchObject({ status: 502, unexpected: true })
    expect((err as Error).message).toMatch(/^the updater sent an unexpected answer to GET \/v1\/health \(driver: /)
  })

  it('tells an unreachable sidecar apart, with the most specific reason', async () => {
    const gone = new SidecarClient({ url: `http://127.0.0.1:${await closedPort()}`, secret: FAKE_SECRET })
    const err = await gone.health().catch((e: unknown) => e)
    expect(err).toBeInstanceOf(SidecarUnreachableError)
    expect(err).toMatchObject({ reason: 'ECONNREFUSED' })
  })

  it('says how long it waited when the sidecar does not answer', async () => {
    fake.onCreate = 'accept-then-hang'
    const slow = new SidecarClient({ url: fake.url, secret: FAKE_SECRET, timeoutMs: 300 })
    await expect(slow.createJob(request)).rejects.toMatchObject({ reason: 'no answer within 0.3 s' })
  })

  it('remembers the sidecar\'s clock from the Date header, even on a refusal', async () => {
    fake.date = new Date(Date.UTC(2030, 0, 1)).toUTCString()
    const wrong = new SidecarClient({ url: fake.url, secret: 'not-the-secret-but-long-enough' })
    await wrong.health().catch(() => undefined)
    expect(wrong.lastClock?.server).toBe(Date.UTC(2030, 0, 1))
  })

  describe('events', () => {
    const job = (status: Job['status']) => makeJob('job-1', { status })
    const EVENTS: JobEvent[] = [
      { type: 'job', job: job('running') },
      { type: 'log', step: 'preflight', line: 'checking' },
      { type: 'job', job: job('succeeded') },
    ]

    async function collect(lastEventId: string | null = null) {
      const out: Array<{ id: string | null, event: JobEvent }> = []
      for await (const e of client.events('job-1', { lastEventId, signal: new AbortController().signal })) out.push(e)
      return out
    }

    beforeEach(() => {
      fake.jobs.set('job-1', job('succeeded'))
      fake.events.set('job-1', EVENTS)
    })

    it('parses the stream with its ids, skipping comments and heartbeats', async () => {
      expect(await collect()).toEqual(EVENTS.map((event, i) => ({ id: String(i + 1), event })))
    })

    it('resumes after Last-Event-ID', async () => {
      expect((await collect('2')).map(e => e.id)).toEqual(['3'])
      expect(fake.eventRequests).toEqual(['2'])
    })

    it('refuses an event that does not match the schema', async () => {
      fake.events.set('job-1', [{ type: 'log', step: 'pull' } as unknown as JobEvent])
      await expect(collect()).rejects.toMatchObject({ status: 502, unexpected: true, message: expect.stringMatching(/^the updater sent an unexpected answer to GET \/v1\/jobs\/job-1\/events \(event 1: line: /) })
    })

    it('reports a refused stream with the sidecar\'s reason', async () => {
      await expect((async () => {
        for await (const _ of client.events('job-9', { lastEventId: null, signal: new AbortController().signal })) { /* none */ }
      })()).rejects.toMatchObject({ status: 404, detail: 'no job job-9' })
    })
  })
})
