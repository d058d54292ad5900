import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { JOB_STEPS, STEP_LOG_LIMIT } from '../../shared/steps'
import { Journal, type JournalEvent, type NewJob } from '../../sidecar/journal'

function newJob(id: string, overrides: Partial<NewJob> = {}): NewJob {
  return {
    id,
    runId: `run-${id}`,
    kind: 'update',
    fromVersion: '1.2.2',
    toVersion: '1.3.0',
    requestedBy: { email: 'admin@example.com', via: 'web' },
    force: false,
    compose: 'services: {}\n',
    ...overrides,
  }
}

describe('Journal', () => {
  let path: string
  let journal: Journal

  beforeEach(() => {
    path = join(mkdtempSync(join(tmpdir(), 'owlat-journal-')), 'updater', 'journal.sqlite')
    journal = new Journal(path)
  })
  afterEach(() => journal.close())

  it('creates a queued job with every step pending', () => {
    const job = journal.createJob(newJob('a'), 1000)
    expect(job).toMatchObject({ id: 'a', runId: 'run-a', status: 'queued', reason: null, createdAt: 1000, startedAt: null, endedAt: null })
    expect(job.steps.map(s => s.name)).toEqual([...JOB_STEPS])
    expect(job.steps.every(s => s.status === 'pending' && s.log.length === 0)).toBe(true)
    expect(journal.getJob('a')).toEqual(job)
    expect(journal.getJob('missing')).toBeNull()
    expect(journal.jobInput('a')).toEqual({ compose: 'services: {}\n', force: false, backup: true, restoreBackupJobId: null, restoreArchive: null, stopComposes: [] })
  })

  it('lists newest first, bounded by the limit', () => {
    journal.createJob(newJob('old'), 1000)
    journal.createJob(newJob('mid'), 2000)
    journal.createJob(newJob('new'), 3000)
    expect(journal.listJobs(20).map(j => j.id)).toEqual(['new', 'mid', 'old'])
    expect(journal.listJobs(2).map(j => j.id)).toEqual(['new', 'mid'])
  })

  it('moves jobs only along the run state machine', () => {
    journal.createJob(newJob('a'))
    expect(() => journal.setJobStatus('a', 'succeeded')).toThrow('illegal run transition queued → succeeded')
    const running = journal.setJobStatus('a', 'running', null, 2000)
    expect(running.startedAt).toBe(2000)
    expect(journal.activeJobs().map(j => j.id)).toEqual(['a'])
    const done = journal.setJobStatus('a', 'rolled_back', 'verify failed', 3000)
    expect(done).toMatchObject({ status: 'rolled_back', reason: 'verify failed', startedAt: 2000, endedAt: 3000 })
    expect(() => journal.setJobStatus('a', 'running')).toThrow('illegal run transition rolled_back → running')
    expect(journal.activeJobs()).toEqual([])
  })

  it('records steps before and after they run, restore steps appended in order', () => {
    journal.createJob(newJob('a'))
    journal.startStep('a', 'verify', 100)
    expect(journal.getJob('a')!.steps.find(s => s.name === 'verify')).toMatchObject({ status: 'running', startedAt: 100, endedAt: null })
    journal.finishStep('a', 'verify', 'failed', 'web did not become healthy', 200)
    journal.startStep('a', 'restore', 300)
    journal.finishStep('a', 'restore', 'succeeded', null, 400)
    const steps = journal.getJob('a')!.steps
    expect(steps.find(s => s.name === 'verify')).toMatchObject({ status: 'failed', endedAt: 200, error: 'web did not become healthy' })
    expect(steps.map(s => s.name).slice(-2)).toEqual(['commit', 'restore'])
    expect(() => journal.finishStep('a', 'verify-restore', 'succeeded')).toThrow('was never started')
  })

  it('keeps only the newest STEP_LOG_LIMIT log lines of a step', () => {
    journal.createJob(newJob('a'))
    journal.startStep('a', 'stage')
    for (let i = 0; i < STEP_LOG_LIMIT + 5; i++) journal.appendLog('a', 'stage', `line ${i}`)
    const log = journal.getJob('a')!.steps.find(s => s.name === 'stage')!.log
    expect(log).toHaveLength(STEP_LOG_LIMIT)
    expect(log[0]).toBe('line 5')
    expect(log.at(-1)).toBe(`line ${STEP_LOG_LIMIT + 4}`)
  })

  it('journals events with increasing sequence numbers and announces them after commit', () => {
    const seen: JournalEvent[] = []
    const stop = journal.onEvent(event => seen.push(event))
    journal.createJob(newJob('a'))
    journal.createJob(newJob('b'))
    journal.startStep('a', 'preflight')
    journal.appendLog('a', 'preflight', 'web 1.2.2 is healthy')
    stop()
    journal.finishStep('a', 'preflight', 'succeeded')

    const events = journal.eventsAfter('a', 0)
    expect(events.map(e => e.event.type)).toEqual(['job', 'job', 'log', 'job'])
    expect(events.every((e, i) => i === 0 || e.seq > events[i - 1]!.seq)).toBe(true)
    expect(events[2]!.event).toEqual({ type: 'log', step: 'preflight', line: 'web 1.2.2 is healthy' })
    // The listener saw everything up to unsubscribing, for both jobs, and nothing after.
    expect(seen.map(e => e.jobId)).toEqual(['a', 'b', 'a', 'a'])
    expect(journal.eventsAfter('a', events[1]!.seq).map(e => e.seq)).toEqual(events.slice(2).map(e => e.seq))
  })

  it('keeps every event while a job runs, and once it ended only its last snapshot and newest log lines', () => {
    journal.createJob(newJob('a'))
    journal.setJobStatus('a', 'running')
    journal.startStep('a', 'stage')
    const lines = STEP_LOG_LIMIT + 50
    for (let i = 0; i < lines; i++) journal.appendLog('a', 'stage', `line ${i}`)
    journal.finishStep('a', 'stage', 'succeeded')
    // Running: a follower can resume from anything it saw, and a late one sees every step start.
    expect(journal.eventsAfter('a', 0).filter(e => e.event.type === 'log')).toHaveLength(lines)
    expect(journal.eventsAfter('a', 0).filter(e => e.event.type === 'job')).toHaveLength(4)

    journal.setJobStatus('a', 'failed', 'stopped')
    const kept = journal.eventsAfter('a', 0)
    expect(kept.filter(e => e.event.type === 'log').map(e => (e.event as { line: string }).line))
      .toEqual(Array.from({ length: STEP_LOG_LIMIT }, (_, i) => `line ${i + 50}`))
    expect(kept.at(-1)!.event).toEqual({ type: 'job', job: journal.getJob('a') })
    expect(kept).toHaveLength(STEP_LOG_LIMIT + 1)
  })

  it('prunes the history of jobs that ended before pruning existed when it opens', () => {
    journal.createJob(newJob('a'))
    journal.setJobStatus('a', 'running')
    journal.setJobStatus('a', 'succeeded')
    journal.close()
    // An old journal: every snapshot kept.
    const db = new Database(path)
    const payload = db.prepare('SELECT payload FROM events WHERE job_id = ?').get('a') as { payload: string }
    for (let i = 0; i < 5; i++) db.prepare('INSERT INTO events (job_id, payload, created_at) VALUES (?, ?, 0)').run('a', payload.payload)
    const before = (db.prepare('SELECT COUNT(*) AS n FROM events').get() as { n: number }).n
    db.close()
    expect(before).toBe(6)
    journal = new Journal(path)
    expect(journal.eventsAfter('a', 0)).toHaveLength(1)
  })

  it('announces nothing from a write that was rolled back', () => {
    journal.createJob(newJob('a'))
    const seen: JournalEvent[] = []
    journal.onEvent(event => seen.push(event))
    expect(() => journal.createJob(newJob('a'))).toThrow()
    expect(seen).toEqual([])
    expect(journal.eventsAfter('a', 0)).toHaveLength(1)
  })

  it('reads rows through the shared job schema: a row of the wrong shape is refused, not handed on', () => {
    journal.createJob(newJob('a'))
    const raw = new Database(path)
    raw.prepare(`UPDATE jobs SET kind = 'sidegrade' WHERE id = 'a'`).run()
    raw.close()
    expect(() => journal.getJob('a')).toThrow(/^jobs: a row does not match its schema:[\s\S]*kind/)
  })

  it('migrates a journal from before its migrations were counted, keeping its jobs', () => {
    journal.close()
    path = join(mkdtempSync(join(tmpdir(), 'owlat-journal-')), 'journal.sqlite')
    // The first release's schema, written then without a user_version.
    const raw = new Database(path)
    raw.exec(`
      CREATE TABLE jobs (id TEXT PRIMARY KEY, run_id TEXT, kind TEXT NOT NULL, from_version TEXT NOT NULL, to_version TEXT NOT NULL,
        status TEXT NOT NULL, reason TEXT, requested_by TEXT NOT NULL, force INTEGER NOT NULL, compose TEXT NOT NULL,
        created_at INTEGER NOT NULL, started_at INTEGER, ended_at INTEGER, backup INTEGER NOT NULL DEFAULT 1);
      CREATE TABLE steps (job_id TEXT NOT NULL REFERENCES jobs (id), name TEXT NOT NULL, position INTEGER NOT NULL, status TEXT NOT NULL,
        started_at INTEGER, ended_at INTEGER, log TEXT NOT NULL DEFAULT '[]', error TEXT, PRIMARY KEY (job_id, name));
      CREATE TABLE events (seq INTEGER PRIMARY KEY AUTOINCREMENT, job_id TEXT NOT NULL REFERENCES jobs (id), payload TEXT NOT NULL, created_at INTEGER NOT NULL);
      CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      INSERT INTO jobs VALUES ('old', NULL, 'update', '1.2.1', '1.2.2', 'succeeded', NULL, '{"email":null,"via":"cli"}', 0, 'services: {}', 1, 2, 3, 0);
      INSERT INTO steps VALUES ('old', 'preflight', 0, 'succeeded', 2, 3, '["ok"]', NULL);
      INSERT INTO meta VALUES ('installed_version', '1.2.2');
    `)
    raw.close()
    journal = new Journal(path)
    expect(journal.getJob('old')).toMatchObject({ status: 'succeeded', backup: null, steps: [{ name: 'preflight', log: ['ok'], hop: 0 }] })
    expect(journal.jobInput('old')).toEqual({ compose: 'services: {}', force: false, backup: false, restoreBackupJobId: null, restoreArchive: null, stopComposes: [] })
    expect(journal.installedVersion()).toBe('1.2.2')
    journal.createJob(newJob('new', { restoreBackupJobId: 'old' }))
    expect(journal.jobInput('new').restoreBackupJobId).toBe('old')
    journal.createJob(newJob('restore', { kind: 'restore', restoreArchive: 'owlat-20261201-033000.tar.gz' }))
    expect(journal.jobInput('restore').restoreArchive).toBe('owlat-20261201-033000.tar.gz')
    const check = new Database(path, { readonly: true })
    expect(check.pragma('user_version', { simple: true })).toBe(5)
    check.close()
  })

  it('keeps a job through required stops hop by hop: its path, each stop\'s compose, the same step once per hop', () => {
    journal.createJob(newJob('hops', { toVersion: '1.3.1', stops: [{ version: '1.3.0', compose: 'services: { stop: {} }' }] }))
    const job = journal.getJob('hops')!
    expect(job.path).toEqual(['1.3.0', '1.3.1'])
    expect(job.steps.map(s => `${s.hop}:${s.name}`)).toEqual([...JOB_STEPS.map(n => `0:${n}`), ...JOB_STEPS.map(n => `1:${n}`)])
    expect(journal.jobInput('hops').stopComposes).toEqual(['services: { stop: {} }'])
    journal.startStep('hops', 'verify', 100, 0)
    journal.finishStep('hops', 'verify', 'succeeded', null, 110, 0)
    journal.startStep('hops', 'verify', 200, 1)
    journal.appendLog('hops', 'verify', 'second hop', 1)
    journal.finishStep('hops', 'verify', 'failed', 'unhealthy', 210, 1)
    const verifies = journal.getJob('hops')!.steps.filter(s => s.name === 'verify')
    expect(verifies).toMatchObject([{ hop: 0, status: 'succeeded', log: [] }, { hop: 1, status: 'failed', error: 'unhealthy', log: ['second hop'] }])
    expect(journal.eventsAfter('hops', 0).map(e => e.event).filter(e => e.type === 'log')).toEqual([{ type: 'log', step: 'verify', line: 'second hop', hop: 1 }])
    // A job of one hop has no path.
    expect(journal.createJob(newJob('one')).path).toBeNull()
  })

  it('survives a reopen: jobs, events and the installed version are on disk', () => {
    journal.createJob(newJob('a'))
    journal.setInstalledVersion('1.2.2')
    journal.setInstalledVersion('1.3.0')
    journal.close()
    journal = new Journal(path)
    expect(journal.getJob('a')?.status).toBe('queued')
    expect(journal.installedVersion()).toBe('1.3.0')
    const raw = new Database(path, { readonly: true })
    expect(raw.pragma('journal_mode', { simple: true })).toBe('wal')
    raw.close()
  })
})
