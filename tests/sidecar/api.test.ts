/**
 * The sidecar's HTTP API against a real web child (tests/fixtures/fake-web.mjs) on the local
 * driver: signatures, admission checks, an update, a manual rollback, the SSE stream. The cases
 * build on each other's installed version, in order. What every driver does with a job (restores,
 * resumes) is the driver contract's (tests/drivers/).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import zlib from 'node:zlib'
import { execa } from 'execa'
import { SidecarClient as SharedSidecarClient } from '../../shared/sidecar-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freePort } from '../setup/ports'
import { demoCompose } from '../../scripts/bootstrap'
import { sidecarHealthSchema, jobListSchema, serviceLogsSchema, type Job, type JobEvent } from '../../shared/schemas/job'
import { JOB_STEPS } from '../../shared/steps'
import { readCompose } from '../../sidecar/compose-file'
import { signRequest } from '../../shared/request-signing'
import { BODY_LIMIT_BYTES } from '../../sidecar/http'
import { startSidecar, type SidecarHandle } from '../../sidecar/index'
import { isAlive } from '../../sidecar/drivers/processes'
import {
  eventually, FAKE_WEB, instanceSecret, jobRequest, makeDataDir, SidecarClient, testConfig, webVersion, writeCustomRelease,
} from './helpers'

const UPDATER_PORT = await freePort()

describe('sidecar API (local driver)', () => {
  let dataDir: string
  let secret: string
  let sidecar: SidecarHandle
  let client: SidecarClient
  const logs: string[] = []

  const stackVersion = () => readCompose(join(dataDir, 'stack', 'docker-compose.yml')).version
  const webPid = () => Number(readFileSync(join(dataDir, 'updater', 'web.pid'), 'utf8'))
  const health = async () => sidecarHealthSchema.parse((await client.request('GET', '/v1/health')).body)

  beforeAll(async () => {
    dataDir = makeDataDir()
    secret = instanceSecret(dataDir)
    sidecar = await startSidecar(testConfig(dataDir, UPDATER_PORT), { webEntry: FAKE_WEB, log: line => logs.push(line) })
    client = new SidecarClient(sidecar.url, secret)
    await eventually(async () => (await health()).services[0]?.health === 'healthy', 'web healthy at start')
  })

  afterAll(async () => {
    const pid = webPid()
    await sidecar?.close()
    expect(isAlive(pid)).toBe(false)
  })

  it('serves the bug-report bundle: ps, logs, runs, the stack checks; the instance secret masked', async () => {
    const bytes = await new SharedSidecarClient({ url: sidecar.url, secret }).bundle()
    const dir = mkdtempSync(join(tmpdir(), 'owlat-sidecar-bundle-'))
    try {
      writeFileSync(join(dir, 'b.tar.gz'), bytes)
      await execa('tar', ['-xzf', join(dir, 'b.tar.gz'), '-C', dir])
      const root = join(dir, 'owlat-bundle')
      expect(readdirSync(root, { recursive: true }).map(String).sort()).toEqual(expect.arrayContaining(['checks.txt', 'ps.txt', 'runs.json', 'logs/web.txt']))
      expect(readFileSync(join(root, 'ps.txt'), 'utf8')).toMatch(/^web\t.*\trunning\thealthy$/m)
      expect(readFileSync(join(root, 'checks.txt'), 'utf8')).toContain('the local driver runs no compose stack')
      expect(Buffer.from(zlib.gunzipSync(bytes)).includes(secret)).toBe(false)
    }
    finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('reports health: installed version, driver, the web service, what the driver can do', async () => {
    expect(sidecar.url).toBe(`http://127.0.0.1:${UPDATER_PORT}`)
    const answer = await health()
    expect(answer).toEqual({
      version: '1.2.2',
      driver: 'local',
      services: [{ name: 'web', image: expect.stringMatching(/^ghcr\.io\/owlat\/web:1\.2\.2@sha256:/), version: '1.2.2', state: 'running', health: 'healthy' }],
      backups: { supported: false, reason: expect.stringMatching(/local driver/) },
      rehearsals: { supported: true, reason: null },
      // What the plan's host checks judge: no engine or compose under the local driver.
      host: { updater: '1.2.2', engine: null, compose: null, disk: { path: expect.any(String), freeBytes: expect.any(Number), totalBytes: expect.any(Number), needBytes: expect.any(Number), copyBytes: expect.any(Number) } },
      // No job has carried a release index yet.
      indexSerial: null,
    })
    // Said by the updater itself, not filled in by the schema's default for older updaters.
    expect((await client.request('GET', '/v1/health')).body).toHaveProperty('rehearsals', { supported: true, reason: null })
    expect(await webVersion(secret)).toBe('1.2.2')
  })

  it('serves the tail of a service log and refuses unknown services and bad tails', async () => {
    const answer = await client.request('GET', '/v1/services/web/logs?tail=5')
    expect(answer.status).toBe(200)
    const { lines, entries } = serviceLogsSchema.parse(answer.body)
    expect(lines.length).toBeGreaterThan(0)
    expect(lines.length).toBeLessThanOrEqual(5)
    // Each line with when it was written and the version that wrote it (owlat logs prints both).
    expect(entries?.map(e => e.line)).toEqual(lines)
    expect(entries?.every(e => e.version === '1.2.2' && Math.abs(Date.now() - e.at) < 120_000)).toBe(true)
    expect(await client.request('GET', '/v1/services/mta/logs')).toEqual({ status: 404, body: { error: 'no service mta (services: web)' } })
    expect((await client.request('GET', '/v1/services/web/logs?tail=0')).status).toBe(400)
  })

  it('answers the stack checks of a compose file with a skip: the local driver runs no compose stack', async () => {
    const compose = demoCompose({ version: '1.3.0' })
    expect(await new SharedSidecarClient({ url: sidecar.url, secret }).stackChecks(compose)).toEqual([
      { id: 'stack', status: 'skip', message: 'the local driver runs no compose stack', fix: null, blocking: false },
    ])
    expect(await client.request('POST', '/v1/checks', { compose: '' })).toMatchObject({ status: 400 })
    // Nothing is judged of a file the compose policy refuses.
    const socket = `${compose}`.replace('restart: unless-stopped', 'restart: unless-stopped\n    volumes:\n      - /var/run/docker.sock:/var/run/docker.sock')
    const refused = await client.request('POST', '/v1/checks', { compose: socket })
    expect(refused.status).toBe(422)
    expect((refused.body as { error: string }).error).toMatch(/docker\.sock/)
    expect(await client.request('POST', '/v1/checks', '{nope')).toEqual({ status: 400, body: { error: 'request body is not valid JSON' } })
    expect((await client.request('POST', '/v1/checks', 'x'.repeat(BODY_LIMIT_BYTES + 1))).status).toBe(413)
  })

  describe('refuses unsigned, wrongly signed, stale and replayed requests', () => {
    it('missing signature', async () => {
      const answer = await client.request('GET', '/v1/health', undefined, {})
      expect(answer).toEqual({ status: 401, body: { error: 'missing request signature' } })
    })

    it('wrong secret', async () => {
      const other = new SidecarClient(sidecar.url, 'not-the-instance-secret-at-all')
      expect(await other.request('GET', '/v1/jobs')).toEqual({ status: 401, body: { error: 'bad request signature (wrong instance secret?)' } })
    })

    it('stale timestamp', async () => {
      const headers = client.sign('GET', '/v1/jobs', undefined, Date.now() - 5 * 60_000)
      expect((await client.request('GET', '/v1/jobs', undefined, headers)).status).toBe(401)
    })

    it('signature over another path (the query string is signed too)', async () => {
      const headers = client.sign('GET', '/v1/jobs?limit=1')
      expect((await client.request('GET', '/v1/jobs?limit=100', undefined, headers)).status).toBe(401)
    })

    it('replayed signature', async () => {
      const headers = client.sign('GET', '/v1/health')
      expect((await client.request('GET', '/v1/health', undefined, headers)).status).toBe(200)
      expect(await client.request('GET', '/v1/health', undefined, headers)).toEqual({ status: 401, body: { error: 'replayed request signature' } })
    })

    it('a signature spelt another way (upper case, extra characters), so one request cannot pass twice', async () => {
      const headers = client.sign('GET', '/v1/jobs')
      const signature = headers['X-Owlat-Signature']!
      for (const altered of [signature.toUpperCase(), `${signature}zz`, `${signature}00`]) {
        expect(await client.request('GET', '/v1/jobs', undefined, { ...headers, 'X-Owlat-Signature': altered }))
          .toEqual({ status: 401, body: { error: 'malformed request signature (64 lowercase hex characters)' } })
      }
      expect((await client.request('GET', '/v1/jobs', undefined, headers)).status).toBe(200)
    })

    it('a nonce other than the one signed', async () => {
      const headers = client.sign('GET', '/v1/jobs')
      const answer = await client.request('GET', '/v1/jobs', undefined, { ...headers, 'X-Owlat-Nonce': '0'.repeat(32) })
      expect(answer).toEqual({ status: 401, body: { error: 'bad request signature (wrong instance secret?)' } })
    })

    it('still accepts a request signed without a nonce (updaters and webs before it), once', async () => {
      const headers = signRequest({ secret, method: 'GET', path: '/v1/jobs', nonce: false })
      expect(headers['X-Owlat-Nonce']).toBeUndefined()
      expect((await client.request('GET', '/v1/jobs', undefined, headers)).status).toBe(200)
      expect((await client.request('GET', '/v1/jobs', undefined, headers)).status).toBe(401)
    })
  })

  describe('never refuses a legitimate request as a replay', () => {
    it('50 concurrent identical signed reads all succeed, and a true replay of one still gets 401', async () => {
      // All signed in the same millisecond, as web replicas and the page's concurrent reads do.
      const now = Date.now()
      const sent = Array.from({ length: 50 }, () => client.sign('GET', '/v1/jobs?limit=5', undefined, now))
      const answers = await Promise.all(sent.map(headers => client.request('GET', '/v1/jobs?limit=5', undefined, headers)))
      expect(answers.map(a => a.status)).toEqual(Array.from({ length: 50 }, () => 200))
      expect(await client.request('GET', '/v1/jobs?limit=5', undefined, sent[17]))
        .toEqual({ status: 401, body: { error: 'replayed request signature' } })
    })

    it('nor through the client, which signs every call afresh', async () => {
      const jobs = await Promise.all(Array.from({ length: 50 }, () => client.listJobs(5)))
      expect(jobs).toHaveLength(50)
    })
  })

  describe('refuses bad job requests with a reason', () => {
    it('body over the size limit', async () => {
      const answer = await client.request('POST', '/v1/jobs', 'x'.repeat(BODY_LIMIT_BYTES + 1))
      expect(answer).toEqual({ status: 413, body: { error: `request body is larger than ${BODY_LIMIT_BYTES} bytes` } })
    })

    it('body that is not JSON', async () => {
      expect(await client.request('POST', '/v1/jobs', '{nope')).toEqual({ status: 400, body: { error: 'request body is not valid JSON' } })
    })

    it('body of the wrong shape, every issue on one line', async () => {
      const answer = await client.request('POST', '/v1/jobs', { ...jobRequest(dataDir, '1.3.0'), kind: 'sideways', targetVersion: 'latest' })
      expect(answer.status).toBe(400)
      expect((answer.body as { error: string }).error).toMatch(/^invalid job request: kind: .*; targetVersion: must be a semantic version/)
    })

    it('tampered compose file', async () => {
      const request = jobRequest(dataDir, '1.3.0')
      const answer = await client.request('POST', '/v1/jobs', { ...request, compose: `${request.compose}# injected\n` })
      expect(answer.status).toBe(400)
      expect((answer.body as { error: string }).error).toMatch(/^compose file sha256 [a-f0-9]{64} does not match the manifest/)
    })

    it('signature of another manifest', async () => {
      const answer = await client.request('POST', '/v1/jobs', { ...jobRequest(dataDir, '1.3.0'), signature: jobRequest(dataDir, '1.2.3').signature })
      expect(answer).toEqual({ status: 400, body: { error: 'release manifest signature does not verify against the pinned release key' } })
    })

    it('release signature spelt another way (trailing characters, no padding, extra padding)', async () => {
      const request = jobRequest(dataDir, '1.3.0')
      for (const signature of [`${request.signature}zz`, `${request.signature}AAAA`, request.signature.replace(/==$/, ''), `${request.signature}==`]) {
        expect(await client.request('POST', '/v1/jobs', { ...request, signature }))
          .toEqual({ status: 400, body: { error: 'release manifest signature does not verify against the pinned release key' } })
      }
      const rollbackFloor = { ...jobRequest(dataDir, '1.3.0'), releases: [{ manifest: request.manifest, signature: `${request.signature}zz` }] }
      expect(await client.request('POST', '/v1/jobs', rollbackFloor))
        .toEqual({ status: 400, body: { error: 'releases.0: release manifest signature does not verify against the pinned release key' } })
    })

    it('manifest for another version than the target', async () => {
      const answer = await client.request('POST', '/v1/jobs', { ...jobRequest(dataDir, '1.2.3'), targetVersion: '1.3.0' })
      expect(answer).toEqual({ status: 400, body: { error: 'release manifest is for 1.2.3, not 1.3.0' } })
    })

    it('signed release whose compose file breaks the compose policy', async () => {
      const compose = demoCompose({ version: '1.3.5' }).replace('  web:\n', '  web:\n    privileged: true\n')
      const dir = writeCustomRelease(dataDir, '1.3.5', compose)
      const answer = await client.request('POST', '/v1/jobs', jobRequest(dataDir, '1.3.5', {}, dir))
      expect(answer.status).toBe(400)
      expect((answer.body as { error: string }).error).toMatch(/^compose file violates the compose policy: service web: privileged mode/)
    })

    it('signed release whose compose file pins another web version', async () => {
      const dir = writeCustomRelease(dataDir, '1.3.2', demoCompose({ version: '1.3.0' }))
      const answer = await client.request('POST', '/v1/jobs', jobRequest(dataDir, '1.3.2', {}, dir))
      expect(answer).toEqual({ status: 400, body: { error: 'the compose file pins web 1.3.0, not 1.3.2' } })
    })

    it('update to a version that is not newer', async () => {
      const answer = await client.request('POST', '/v1/jobs', jobRequest(dataDir, '1.2.2'))
      expect(answer).toEqual({ status: 400, body: { error: '1.2.2 is not newer than the running version 1.2.2' } })
    })

    it('rollback to a version that is not older', async () => {
      const answer = await client.request('POST', '/v1/jobs', jobRequest(dataDir, '1.3.0', { kind: 'rollback' }))
      expect(answer).toEqual({ status: 400, body: { error: '1.3.0 is not older than the running version 1.2.2; a rollback must target an earlier release' } })
    })

    it('an update asking to restore a data backup', async () => {
      const answer = await client.request('POST', '/v1/jobs', jobRequest(dataDir, '1.3.0', { restoreBackupJobId: 'some-job' }))
      expect(answer).toEqual({ status: 400, body: { error: 'only a rollback can restore a data backup' } })
    })

    it('bad list limits and unknown jobs', async () => {
      for (const limit of ['0', '101', 'abc', '2.5']) {
        expect((await client.request('GET', `/v1/jobs?limit=${limit}`)).status).toBe(400)
      }
      expect(await client.request('GET', '/v1/jobs/nope')).toEqual({ status: 404, body: { error: 'no job nope' } })
      expect((await client.request('GET', '/v1/nothing')).status).toBe(404)
      expect((await client.request('DELETE', '/v1/health')).status).toBe(405)
    })

    it('no job was journaled by any of them', async () => {
      expect(jobListSchema.parse((await client.request('GET', '/v1/jobs')).body).jobs).toEqual([])
    })
  })

  let update: Job
  let fullStream: { id: number, event: JobEvent }[]

  it('updates 1.2.2 → 1.3.0, refusing a second job meanwhile, streaming every step', async () => {
    const accepted = await client.request('POST', '/v1/jobs', jobRequest(dataDir, '1.3.0', { runId: 'run-1' }))
    expect(accepted.status).toBe(202)
    const { jobId } = accepted.body as { jobId: string }

    const stream = client.collectEvents(jobId)
    const busy = await client.request('POST', '/v1/jobs', jobRequest(dataDir, '1.2.3'))
    expect(busy.status).toBe(409)
    expect((busy.body as { error: string }).error).toContain(jobId)

    fullStream = await stream
    update = await client.getJob(jobId)
    // One id everywhere: the job takes the web run's id (issue 13, defect 8).
    expect(jobId).toBe('run-1')
    expect(update).toMatchObject({ id: jobId, runId: 'run-1', kind: 'update', fromVersion: '1.2.2', toVersion: '1.3.0', status: 'succeeded', reason: null })
    expect(update.steps.map(s => [s.name, s.status])).toEqual(JOB_STEPS.map(name => [name, ['backup', 'deploy-functions'].includes(name) ? 'skipped' : 'succeeded']))
    for (const s of update.steps) {
      expect(s.startedAt).toBeTypeOf('number')
      expect(s.endedAt).toBeGreaterThanOrEqual(s.startedAt!)
      expect(s.log.length).toBeGreaterThan(0)
    }
    expect(update.steps.find(s => s.name === 'backup')!.log).toEqual(['local driver: no data volumes to back up'])
    expect(update.steps.find(s => s.name === 'recreate')!.log.join('\n')).toMatch(/stopped web \(pid \d+, SIGTERM\)\nstarted web 1\.3\.0 \(pid \d+\)/)

    expect(await webVersion(secret)).toBe('1.3.0')
    expect(stackVersion()).toBe('1.3.0')
    expect((await health()).version).toBe('1.3.0')
  })

  it('streamed the job from queued to its terminal event, with step logs, in sequence order', () => {
    const ids = fullStream.map(m => m.id)
    expect(ids).toEqual([...ids].sort((a, b) => a - b))
    const jobEvents = fullStream.flatMap(m => (m.event.type === 'job' ? [m.event.job] : []))
    expect(jobEvents[0]!.status).toBe('queued')
    expect(jobEvents.at(-1)).toEqual(update)
    expect(fullStream.at(-1)!.event.type).toBe('job')
    const runningSteps = new Set(jobEvents.flatMap(j => j.steps.filter(s => s.status === 'running').map(s => s.name)))
    expect([...runningSteps]).toEqual([...JOB_STEPS])
    expect(fullStream).toContainEqual(expect.objectContaining({ event: { type: 'log', step: 'commit', line: 'installed version is now 1.3.0 (was 1.2.2)' } }))
  })

  it('resumes the stream after Last-Event-ID, and ends at once when nothing is left', async () => {
    const { jobId, stream } = { jobId: update.id, stream: fullStream }
    const middle = stream[Math.floor(stream.length / 2)]!.id
    const path = `/v1/jobs/${jobId}/events`
    const rest = await client.collectEvents(jobId, String(middle))
    // The ended job's history is pruned to its log lines and the terminal snapshot, which
    // supersedes every earlier one (sidecar/journal.ts).
    const last = stream.at(-1)!.id
    expect(rest.map(m => m.id)).toEqual(stream.filter(m => m.id > middle && (m.event.type === 'log' || m.id === last)).map(m => m.id))
    expect(rest.at(-1)!.event).toEqual({ type: 'job', job: update })

    expect(await client.collectEvents(jobId, String(last))).toEqual([])

    const raw = await client.send('GET', path, { stream: true, signal: new AbortController().signal })
    expect(raw.headers.get('content-type')).toContain('text/event-stream')
    await raw.stream?.cancel()
    const bad = await client.send('GET', path, { headers: { 'last-event-id': 'yesterday' } })
    expect(bad.status).toBe(400)
  })

  it('rolls back by hand to an earlier version with kind rollback', async () => {
    const accepted = await client.request('POST', '/v1/jobs', jobRequest(dataDir, '1.2.3', { kind: 'rollback', requestedBy: { email: null, via: 'web' } }))
    expect(accepted.status).toBe(202)
    const job = await client.waitForJob((accepted.body as { jobId: string }).jobId)
    expect(job).toMatchObject({ kind: 'rollback', fromVersion: '1.3.0', toVersion: '1.2.3', status: 'succeeded' })
    expect(await webVersion(secret)).toBe('1.2.3')
  })

  it('gives a job a new id when the run\'s id is taken or is no job id, and without a run', async () => {
    const taken = await client.request('POST', '/v1/jobs', jobRequest(dataDir, '1.2.2', { kind: 'rollback', runId: 'run-1' }))
    expect(taken.status).toBe(202)
    const { jobId } = taken.body as { jobId: string }
    expect(jobId).not.toBe('run-1')
    expect(await client.waitForJob(jobId)).toMatchObject({ runId: 'run-1', status: 'succeeded' })
    const back = await client.request('POST', '/v1/jobs', jobRequest(dataDir, '1.2.3', { runId: 'a run/with a slash' }))
    expect(back.status).toBe(202)
    expect((back.body as { jobId: string }).jobId).toMatch(/^[\da-f-]{36}$/)
    await client.waitForJob((back.body as { jobId: string }).jobId)
  })

  it('lists jobs newest first', async () => {
    const all = jobListSchema.parse((await client.request('GET', '/v1/jobs')).body).jobs
    expect(all.map(j => j.toVersion)).toEqual(['1.2.3', '1.2.2', '1.2.3', '1.3.0'])
    const one = jobListSchema.parse((await client.request('GET', '/v1/jobs?limit=1')).body).jobs
    expect(one.map(j => j.toVersion)).toEqual(['1.2.3'])
  })

  it('restarts the web when it dies on its own', async () => {
    const before = webPid()
    process.kill(before, 'SIGKILL')
    await eventually(async () => webPid() !== before && await webVersion(secret) === '1.2.3', 'web restarted')
    expect(logs.some(line => line.startsWith(`web (pid ${before}) exited unexpectedly (SIGKILL); restarting in 1 s`))).toBe(true)
  })

  it('refuses a correctly signed rollback below the floor of a release it installed, whatever the client sends', async () => {
    const dir = writeCustomRelease(dataDir, '1.5.0', demoCompose({ version: '1.5.0' }), { migrations: { migratesData: true, rollbackFloor: '1.3.0' } })
    const accepted = await client.request('POST', '/v1/jobs', jobRequest(dataDir, '1.5.0', {}, dir))
    expect(accepted.status).toBe(202)
    expect(await client.waitForJob((accepted.body as { jobId: string }).jobId)).toMatchObject({ toVersion: '1.5.0', status: 'succeeded' })

    // No manifests sent along: the updater kept 1.5.0's when it installed it.
    const below = await client.request('POST', '/v1/jobs', jobRequest(dataDir, '1.2.3', { kind: 'rollback', releases: [] }))
    expect(below).toEqual({ status: 400, body: { error: '1.5.0 migrated data and cannot roll back below 1.3.0' } })
    expect((await health()).version).toBe('1.5.0')
    // A target at the floor is fine.
    const atFloor = await client.request('POST', '/v1/jobs', jobRequest(dataDir, '1.3.0', { kind: 'rollback' }))
    expect(atFloor.status).toBe(202)
    expect(await client.waitForJob((atFloor.body as { jobId: string }).jobId)).toMatchObject({ kind: 'rollback', toVersion: '1.3.0', status: 'succeeded' })
  })
  describe('through required upgrade stops', () => {
    /** A stop as a job carries it: its signed manifest and its compose text. */
    const stop = (version: string, dir = join(dataDir, 'releases')) => {
      const { manifest, signature, compose } = jobRequest(dataDir, version, {}, dir)
      return { manifest, signature, compose }
    }

    it('refuses a target whose required stop is left out, and a stop that does not verify', async () => {
      // Back below 1.3.0, whose stop 1.3.1 requires (demo releases).
      const back = await client.request('POST', '/v1/jobs', jobRequest(dataDir, '1.2.3', { kind: 'rollback' }))
      expect(back.status).toBe(202)
      expect(await client.waitForJob((back.body as { jobId: string }).jobId)).toMatchObject({ status: 'succeeded' })

      expect(await client.request('POST', '/v1/jobs', jobRequest(dataDir, '1.3.1'))).toEqual({
        status: 400,
        body: { error: 'cannot update 1.2.3 to 1.3.1: 1.3.1 installs only over 1.3.0 or newer, not over 1.2.3: install 1.3.0 first (the plan\'s path goes through it)' },
      })
      const tampered = { ...stop('1.3.0'), compose: `${stop('1.3.0').compose}# changed\n` }
      const refused = await client.request('POST', '/v1/jobs', jobRequest(dataDir, '1.3.1', { stops: [tampered] }))
      expect(refused.status).toBe(400)
      expect((refused.body as { error: string }).error).toMatch(/^required stop 1\.3\.0: .*sha256/)
      expect(await client.request('POST', '/v1/jobs', jobRequest(dataDir, '1.3.0', { kind: 'rollback', stops: [stop('1.2.2')] }))).toEqual({
        status: 400, body: { error: 'only an update or its rehearsal goes through required upgrade stops' },
      })
      expect((await health()).version).toBe('1.2.3')
    })

    it('updates 1.2.3 → 1.3.1 through 1.3.0, one hop each, verified, watched and committed in turn', async () => {
      const accepted = await client.request('POST', '/v1/jobs', jobRequest(dataDir, '1.3.1', { stops: [stop('1.3.0')] }))
      expect(accepted.status).toBe(202)
      const job = await client.waitForJob((accepted.body as { jobId: string }).jobId)
      expect(job).toMatchObject({ fromVersion: '1.2.3', toVersion: '1.3.1', path: ['1.3.0', '1.3.1'], status: 'succeeded' })
      const commits = job.steps.filter(s => s.name === 'commit')
      expect(commits.map(s => [s.hop, s.status, s.log])).toEqual([
        [0, 'succeeded', ['installed version is now 1.3.0 (was 1.2.3)']],
        [1, 'succeeded', ['installed version is now 1.3.1 (was 1.3.0)']],
      ])
      expect(job.steps.filter(s => s.name === 'recreate').map(s => s.log.join('\n'))).toEqual([
        expect.stringMatching(/started web 1\.3\.0 /), expect.stringMatching(/started web 1\.3\.1 /),
      ])
      expect(await webVersion(secret)).toBe('1.3.1')
      expect(stackVersion()).toBe('1.3.1')
    })

    it('restores a second hop that falls over to the version the first committed', async () => {
      const good = writeCustomRelease(dataDir, '1.7.0', demoCompose({ version: '1.7.0' }))
      writeCustomRelease(dataDir, '1.8.0', demoCompose({ version: '1.8.0', webEnv: { OWLAT_DEMO_FAULT: 'unhealthy' } }), { minimumFrom: '1.7.0' })
      const accepted = await client.request('POST', '/v1/jobs', jobRequest(dataDir, '1.8.0', { stops: [stop('1.7.0', good)] }, good))
      expect(accepted.status).toBe(202)
      const job = await client.waitForJob((accepted.body as { jobId: string }).jobId)
      expect(job.status).toBe('rolled_back')
      expect(job.reason).toMatch(/^hop 2 of 2 \(1\.7\.0 → 1\.8\.0\): verify failed: .*; restored 1\.7\.0, which the hop before committed: the stack runs 1\.7\.0$/)
      expect(job.steps.filter(s => s.name === 'commit').map(s => s.status)).toEqual(['succeeded', 'pending'])
      expect(job.steps.find(s => s.name === 'verify-restore')).toMatchObject({ hop: 1, status: 'succeeded' })
      expect(await webVersion(secret)).toBe('1.7.0')
      expect((await health()).version).toBe('1.7.0')
    })
  })
})
