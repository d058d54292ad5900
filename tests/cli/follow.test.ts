/**
 * The CLI's side of the sidecar client: following a job over its event stream (resuming after a
 * cut) and the one line each failure becomes.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { followJob } from '../../cli/follow'
import { JobPrinter } from '../../cli/job-view'
import { asCliError, describeSidecarFailure } from '../../cli/sidecar'
import { CliError } from '../../cli/errors'
import { SidecarClient, SidecarRejectedError, SidecarUnreachableError } from '../../shared/sidecar-client'
import type { Job, JobEvent } from '../../shared/schemas/job'
import { JOB_STEPS, STEP_LABELS } from '../../shared/steps'
import { FAKE_SECRET, startFakeSidecar, type FakeSidecar } from '../server/fake-sidecar'

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

describe('followJob', () => {
  let fake: FakeSidecar
  let client: SidecarClient

  beforeAll(async () => {
    fake = await startFakeSidecar()
    client = new SidecarClient({ url: fake.url, secret: FAKE_SECRET })
  })

  afterAll(() => fake.close())

  beforeEach(() => {
    fake.jobs.set('job-1', job('succeeded'))
    fake.events.set('job-1', EVENTS)
    fake.eventRequests = []
    fake.cutAfter = null
  })

  function recorder() {
    const lines: string[] = []
    return { lines, printer: new JobPrinter(line => lines.push(line)) }
  }

  it('prints step transitions and log lines, and returns the finished job', async () => {
    const { lines, printer } = recorder()
    const finished = await followJob(client, 'job-1', printer, { signal: new AbortController().signal })
    expect(finished.status).toBe('succeeded')
    expect(lines).toEqual([
      '▸ Preflight checks…',
      '  preflight │ checking',
      '  preflight │ stack is healthy',
      '▸ Pull images…',
      '  pull │ pulled web',
      ...JOB_STEPS.map(name => `✔ ${STEP_LABELS[name]} (1 ms)`),
    ])
    expect(fake.eventRequests).toEqual([null])
  })

  it('resumes from the last event id after the stream drops, printing nothing twice', async () => {
    fake.cutAfter = 3
    const { lines, printer } = recorder()
    const finished = await followJob(client, 'job-1', printer, { signal: new AbortController().signal, reconnectDelayMs: 1 })
    expect(finished.status).toBe('succeeded')
    expect(fake.eventRequests).toEqual([null, '3'])
    expect(lines.filter(l => l === '  preflight │ checking')).toHaveLength(1)
    expect(lines.filter(l => l === '  pull │ pulled web')).toHaveLength(1)
  })
})

describe('what the CLI says when the updater fails it', () => {
  it('words each failure as one line that says what to do', () => {
    expect(describeSidecarFailure(new SidecarUnreachableError('http://127.0.0.1:3200', 'ECONNREFUSED')))
      .toBe('cannot reach the updater at http://127.0.0.1:3200: is it running? (ECONNREFUSED)')
    expect(describeSidecarFailure(new SidecarRejectedError(401, 'bad request signature (wrong instance secret?)', 'GET /v1/health')))
      .toBe('the updater refused the instance secret: check OWLAT_INSTANCE_SECRET')
    expect(describeSidecarFailure(new SidecarRejectedError(502, 'driver: Invalid input', 'GET /v1/health', true)))
      .toBe('the updater sent an unexpected answer to GET /v1/health (driver: Invalid input): are the CLI and the updater the same version?')
    expect(describeSidecarFailure(new SidecarRejectedError(404, 'no service nope (services: web)', 'GET /v1/services/nope/logs?tail=200')))
      .toBe('the updater answered 404 to GET /v1/services/nope/logs?tail=200: no service nope (services: web)')
    expect(describeSidecarFailure(new SidecarRejectedError(500, null, 'GET /v1/health')))
      .toBe('the updater answered 500 to GET /v1/health: no reason given')
  })

  it('turns the client\'s errors into CLI errors of the right kind, and leaves others alone', () => {
    expect(asCliError(new SidecarUnreachableError('u', 'ECONNREFUSED'))).toMatchObject({ kind: 'unreachable', exitCode: 1 })
    expect(asCliError(new SidecarRejectedError(401, null))).toMatchObject({ kind: 'unauthorized' })
    expect(asCliError(new SidecarRejectedError(409, 'busy'))).toBeInstanceOf(CliError)
    const other = new Error('x')
    expect(asCliError(other)).toBe(other)
  })
})
