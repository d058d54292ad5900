/**
 * The sidecar's durable job journal (SQLite, WAL, synchronous=FULL): jobs, their steps, an
 * append-only event log that SSE clients replay, and meta (the installed version). Every write
 * is committed before the work it describes goes on, so a crash never loses what happened.
 */
import Database from 'better-sqlite3'
import { z } from 'zod'
import { assertTransition, isTerminalStatus, type RunKind, type RunStatus } from '../shared/run-state'
import { ALL_STEPS, STEP_LOG_LIMIT, stepsOfKind, type StepName } from '../shared/steps'
import { stepSchema, type CheckOverride, type RequestedBy } from '../shared/schemas/common'
import { jobBackupSchema, jobSchema, type Job, type JobBackup, type JobEvent } from '../shared/schemas/job'
import { addMissingColumns, migrate } from '../shared/node/sqlite-migrations'
import { openSqliteFile, prepared } from '../shared/node/sqlite-open'
import { rowCodec } from '../shared/node/sqlite-rows'
import { EMPTY_RELEASE_TRUST, releaseTrustSchema, type ReleaseTrust } from '../shared/schemas/release'

/** Log events an ended job keeps for a follower resuming near its end (one step's log limit). */
const LOG_EVENTS_KEPT = STEP_LOG_LIMIT

/** One log line is a line, not a dump: longer ones are cut. */
const MAX_LOG_LINE = 2000

const STORAGE_SQLITE_CODES = /^SQLITE_(?:FULL|IOERR|CANTOPEN|READONLY|BUSY|LOCKED|NOMEM|PROTOCOL)/
const STORAGE_ERRNO_CODES = new Set(['ENOSPC', 'EDQUOT', 'EIO', 'EROFS', 'ENOMEM'])

/**
 * Whether `err` says the storage under the journal (or beside it) failed: a full disk, an I/O
 * error, a read-only remount. Such a write may land later; any other error never will.
 */
export function isStorageFailure(err: unknown): boolean {
  if (err instanceof Database.SqliteError) return STORAGE_SQLITE_CODES.test(err.code)
  const code = (err as NodeJS.ErrnoException | null)?.code
  return typeof code === 'string' && STORAGE_ERRNO_CODES.has(code)
}

export interface NewJob {
  id: string
  runId: string | null
  kind: RunKind
  fromVersion: string
  toVersion: string
  requestedBy: RequestedBy
  force: boolean
  /** The verified compose text of the target release; the driver stages it. */
  compose: string
  /** Back up the data in the backup step (default on). */
  backup?: boolean
  /** A rollback that also restores the data backup this earlier job took (default none). */
  restoreBackupJobId?: string | null
  /** A restore job: the backup archive it puts back. */
  restoreArchive?: string | null
  /** Failing checks the requester chose to ignore, with the reason (default none). */
  override?: CheckOverride | null
  /**
   * Required upgrade stops before the target, in order, each with its verified compose text:
   * the job runs one hop per stop, then the target's (default none: one hop).
   */
  stops?: Array<{ version: string, compose: string }>
}

export interface JournalEvent {
  seq: number
  jobId: string
  event: JobEvent
}

/** What the runner needs of a job beside the job itself. */
const jobInputSchema = z.object({
  compose: z.string(),
  /** The compose text of each required stop, in the order of the job's `path`. */
  stopComposes: z.array(z.string()),
  force: z.boolean(),
  backup: z.boolean(),
  restoreBackupJobId: z.string().nullable(),
  restoreArchive: z.string().nullable(),
})
export type JobInput = z.infer<typeof jobInputSchema>

interface EventRow {
  seq: number
  job_id: string
  payload: string
}

type Row = Record<string, unknown>

/**
 * journal.sqlite's schema, migration by migration (shared/node/sqlite-migrations.ts). Journals
 * from before the migrations were counted are at version 0 with some or all of it in place,
 * hence `IF NOT EXISTS` and `addMissingColumns`.
 */
const MIGRATIONS = [
  `
  CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    run_id TEXT,
    kind TEXT NOT NULL,
    from_version TEXT NOT NULL,
    to_version TEXT NOT NULL,
    status TEXT NOT NULL,
    reason TEXT,
    requested_by TEXT NOT NULL,
    force INTEGER NOT NULL,
    compose TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    started_at INTEGER,
    ended_at INTEGER
  );
  CREATE INDEX IF NOT EXISTS jobs_created ON jobs (created_at DESC);
  CREATE INDEX IF NOT EXISTS jobs_status ON jobs (status);
  CREATE TABLE IF NOT EXISTS steps (
    job_id TEXT NOT NULL REFERENCES jobs (id),
    name TEXT NOT NULL,
    position INTEGER NOT NULL,
    status TEXT NOT NULL,
    started_at INTEGER,
    ended_at INTEGER,
    log TEXT NOT NULL DEFAULT '[]',
    error TEXT,
    PRIMARY KEY (job_id, name)
  );
  CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id TEXT NOT NULL REFERENCES jobs (id),
    payload TEXT NOT NULL,
    created_at INTEGER NOT NULL
  );
  CREATE INDEX IF NOT EXISTS events_job ON events (job_id, seq);
  CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
  `,
  // Backups: whether the job takes one (on, as every job before this column did), which earlier
  // job's backup a rollback restores, and the backup the job took.
  addMissingColumns('jobs', [
    ['backup', 'INTEGER NOT NULL DEFAULT 1'],
    ['restore_backup_job_id', 'TEXT'],
    ['backup_info', 'TEXT'],
  ]),
  // Restore jobs (`owlat restore FILE`): the archive they put back.
  addMissingColumns('jobs', [['restore_archive', 'TEXT']]),
  // Failing checks the requester ignored, with the reason (JSON).
  addMissingColumns('jobs', [['override', 'TEXT']]),
  // Required upgrade stops: the versions a job installs hop by hop (JSON, null for one hop), the
  // compose text of each stop, and every step keyed by its hop (a new key: the table is rebuilt).
  `
  ALTER TABLE jobs ADD COLUMN path TEXT;
  ALTER TABLE jobs ADD COLUMN stop_composes TEXT NOT NULL DEFAULT '[]';
  CREATE TABLE steps_by_hop (
    job_id TEXT NOT NULL REFERENCES jobs (id),
    hop INTEGER NOT NULL DEFAULT 0,
    name TEXT NOT NULL,
    position INTEGER NOT NULL,
    status TEXT NOT NULL,
    started_at INTEGER,
    ended_at INTEGER,
    log TEXT NOT NULL DEFAULT '[]',
    error TEXT,
    PRIMARY KEY (job_id, hop, name)
  );
  INSERT INTO steps_by_hop (job_id, hop, name, position, status, started_at, ended_at, log, error)
    SELECT job_id, 0, name, position, status, started_at, ended_at, log, error FROM steps;
  DROP TABLE steps;
  ALTER TABLE steps_by_hop RENAME TO steps;
  `,
]

// Rows follow the shared schemas; the steps of a job come from their own table.
const jobRows = rowCodec('jobs', jobSchema, { columns: { backup: 'backup_info' }, omit: ['steps'] })
const jobInputRows = rowCodec('jobs', jobInputSchema)
const stepRows = rowCodec('steps', stepSchema)

const INSTALLED_VERSION_KEY = 'installed_version'
const RELEASE_TRUST_KEY = 'release_trust'

export class Journal {
  private readonly db: Database.Database
  private readonly listeners = new Set<(event: JournalEvent) => void>()
  /** Events written by the transaction in progress; announced only once it commits. */
  private pending: JournalEvent[] = []

  /** Opens (or creates) the journal; a corrupt or unreadable file throws an error naming it. */
  constructor(path: string) {
    // FULL: a step recorded as started must survive power loss, or a resume would guess wrong.
    this.db = openSqliteFile(path, 'updater journal', ['journal_mode = WAL', 'synchronous = FULL', 'foreign_keys = ON'], (db) => {
      migrate(db, MIGRATIONS)
      for (const rows of [jobRows, jobInputRows, stepRows]) rows.assertColumns(db)
    })
    this.pruneEndedJobs()
  }

  close(): void {
    this.listeners.clear()
    this.db.close()
  }

  createJob(input: NewJob, now = Date.now()): Job {
    const stops = input.stops ?? []
    const path = stops.length > 0 ? [...stops.map(stop => stop.version), input.toVersion] : null
    return this.write(() => {
      prepared(this.db, `INSERT INTO jobs (id, run_id, kind, from_version, to_version, status, reason, requested_by, force, compose, created_at, backup, restore_backup_job_id, restore_archive, override, path, stop_composes)
        VALUES (?, ?, ?, ?, ?, 'queued', NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
        .run(input.id, input.runId, input.kind, input.fromVersion, input.toVersion, JSON.stringify(input.requestedBy), input.force ? 1 : 0, input.compose, now, input.backup === false ? 0 : 1, input.restoreBackupJobId ?? null, input.restoreArchive ?? null, input.override ? JSON.stringify(input.override) : null, path ? JSON.stringify(path) : null, JSON.stringify(stops.map(stop => stop.compose)))
      // Every hop's steps from the start, so the page shows the whole run before it runs.
      const step = prepared(this.db, `INSERT INTO steps (job_id, hop, name, position, status) VALUES (?, ?, ?, ?, 'pending')`)
      const names = stepsOfKind(input.kind)
      for (let hop = 0; hop < (path?.length ?? 1); hop++) names.forEach((name, i) => step.run(input.id, hop, name, hop * ALL_STEPS.length + i))
      return this.emitJob(input.id)
    })
  }

  getJob(id: string): Job | null {
    const row = prepared(this.db, 'SELECT * FROM jobs WHERE id = ?').get(id) as Row | undefined
    return row ? this.toJob(row) : null
  }

  /** Newest first. */
  listJobs(limit: number): Job[] {
    const rows = prepared(this.db, 'SELECT * FROM jobs ORDER BY created_at DESC, rowid DESC LIMIT ?').all(limit) as Row[]
    return rows.map(row => this.toJob(row))
  }

  /** Jobs still queued or running: at most one while the sidecar is up, any number after a crash. */
  activeJobs(): Job[] {
    const rows = prepared(this.db, `SELECT * FROM jobs WHERE status IN ('queued', 'running') ORDER BY created_at`).all() as Row[]
    return rows.map(row => this.toJob(row))
  }

  jobInput(id: string): JobInput {
    return jobInputRows.fromRow(this.requireRow(id))
  }

  /** Records the data backup the job's backup step took, so a later rollback can offer it. */
  setJobBackup(id: string, backup: JobBackup): Job {
    return this.write(() => {
      this.requireRow(id)
      prepared(this.db, 'UPDATE jobs SET backup_info = ? WHERE id = ?').run(JSON.stringify(jobBackupSchema.parse(backup)), id)
      return this.emitJob(id)
    })
  }

  setJobStatus(id: string, status: RunStatus, reason: string | null = null, now = Date.now()): Job {
    return this.write(() => {
      const current = this.toJob(this.requireRow(id))
      assertTransition(current.status, status)
      prepared(this.db, `UPDATE jobs SET status = ?, reason = COALESCE(?, reason),
        started_at = CASE WHEN ? = 'running' AND started_at IS NULL THEN ? ELSE started_at END,
        ended_at = CASE WHEN ? THEN ? ELSE ended_at END
        WHERE id = ?`)
        .run(status, reason, status, now, isTerminalStatus(status) ? 1 : 0, now, id)
      return this.emitJob(id)
    })
  }

  /**
   * Records a step (of hop `hop`, 0 in a job of one hop) as running before it runs; re-running a
   * step (after a restart) reopens its row.
   */
  startStep(id: string, name: StepName, now = Date.now(), hop = 0): void {
    this.write(() => {
      const position = prepared(this.db, 'SELECT COALESCE(MAX(position), -1) + 1 AS next FROM steps WHERE job_id = ?').get(id) as { next: number }
      prepared(this.db, `INSERT INTO steps (job_id, hop, name, position, status, started_at) VALUES (?, ?, ?, ?, 'running', ?)
        ON CONFLICT (job_id, hop, name) DO UPDATE SET status = 'running', started_at = excluded.started_at, ended_at = NULL, error = NULL`)
        .run(id, hop, name, position.next, now)
      this.emitJob(id)
    })
  }

  finishStep(id: string, name: StepName, status: 'succeeded' | 'failed' | 'skipped', error: string | null = null, now = Date.now(), hop = 0): void {
    this.write(() => {
      const changed = prepared(this.db, 'UPDATE steps SET status = ?, ended_at = ?, error = ? WHERE job_id = ? AND hop = ? AND name = ?')
        .run(status, now, error, id, hop, name)
      if (changed.changes !== 1) throw new Error(`step ${name} of job ${id} was never started`)
      this.emitJob(id)
    })
  }

  /** Appends to the step's bounded log (newest lines kept) and journals a `log` event. */
  appendLog(id: string, name: StepName, line: string, hop = 0): void {
    const text = line.length > MAX_LOG_LINE ? `${line.slice(0, MAX_LOG_LINE)}…` : line
    this.write(() => {
      const row = prepared(this.db, 'SELECT * FROM steps WHERE job_id = ? AND hop = ? AND name = ?').get(id, hop, name) as Row | undefined
      if (!row) throw new Error(`step ${name} of job ${id} was never started`)
      const log = [...stepRows.fromRow(row).log, text].slice(-STEP_LOG_LIMIT)
      prepared(this.db, 'UPDATE steps SET log = ? WHERE job_id = ? AND hop = ? AND name = ?').run(JSON.stringify(log), id, hop, name)
      this.insertEvent(id, { type: 'log', step: name, line: text, ...(hop > 0 ? { hop } : {}) })
    })
  }

  /** The job's journaled events after `afterSeq`, oldest first. */
  eventsAfter(id: string, afterSeq: number): JournalEvent[] {
    const rows = prepared(this.db, 'SELECT seq, job_id, payload FROM events WHERE job_id = ? AND seq > ? ORDER BY seq').all(id, afterSeq) as EventRow[]
    return rows.map(row => ({ seq: row.seq, jobId: row.job_id, event: JSON.parse(row.payload) as JobEvent }))
  }

  /** Live events, delivered synchronously right after they are committed. */
  onEvent(listener: (event: JournalEvent) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  installedVersion(): string | null {
    const row = prepared(this.db, 'SELECT value FROM meta WHERE key = ?').get(INSTALLED_VERSION_KEY) as { value: string } | undefined
    return row?.value ?? null
  }

  setInstalledVersion(version: string): void {
    prepared(this.db, 'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value')
      .run(INSTALLED_VERSION_KEY, version)
  }

  /** What this updater learned from release indexes (its own ratchet and rotated keys), as the web's store keeps it. */
  releaseTrust(): ReleaseTrust {
    const row = prepared(this.db, 'SELECT value FROM meta WHERE key = ?').get(RELEASE_TRUST_KEY) as { value: string } | undefined
    return row ? releaseTrustSchema.parse(JSON.parse(row.value)) : { ...EMPTY_RELEASE_TRUST }
  }

  saveReleaseTrust(patch: Partial<ReleaseTrust>): void {
    const next = releaseTrustSchema.parse({ ...this.releaseTrust(), ...patch })
    prepared(this.db, 'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value')
      .run(RELEASE_TRUST_KEY, JSON.stringify(next))
  }

  private requireRow(id: string): Row {
    const row = prepared(this.db, 'SELECT * FROM jobs WHERE id = ?').get(id) as Row | undefined
    if (!row) throw new Error(`unknown job ${id}`)
    return row
  }

  private emitJob(id: string): Job {
    const job = this.toJob(this.requireRow(id))
    this.insertEvent(id, { type: 'job', job })
    return job
  }

  private insertEvent(id: string, event: JobEvent): void {
    const result = prepared(this.db, 'INSERT INTO events (job_id, payload, created_at) VALUES (?, ?, ?)').run(id, JSON.stringify(event), Date.now())
    const seq = Number(result.lastInsertRowid)
    this.pending.push({ seq, jobId: id, event })
    if (event.type === 'job' && isTerminalStatus(event.job.status)) this.pruneEvents(id, seq)
  }

  /**
   * Bounds an ended job's event history. While it runs every event stays, so a follower that
   * connects late still sees each step start and end. Once it has ended, the terminal `job`
   * event (a full snapshot) supersedes every earlier one, and only the newest `LOG_EVENTS_KEPT`
   * log lines stay, for a follower that dropped near the end; the snapshot carries each step's
   * bounded log for anyone else.
   */
  private pruneEvents(id: string, snapshotSeq: number): void {
    prepared(this.db, `DELETE FROM events WHERE job_id = ? AND seq < ? AND json_extract(payload, '$.type') = 'job'`).run(id, snapshotSeq)
    prepared(this.db, `DELETE FROM events WHERE job_id = ? AND json_extract(payload, '$.type') = 'log' AND seq NOT IN (
      SELECT seq FROM events WHERE job_id = ? AND json_extract(payload, '$.type') = 'log' ORDER BY seq DESC LIMIT ?)`).run(id, id, LOG_EVENTS_KEPT)
  }

  /** Journals written before events were pruned: bring every ended job's history to the bound. */
  private pruneEndedJobs(): void {
    const ended = prepared<[], { id: string, seq: number }>(this.db, `SELECT jobs.id AS id, MAX(events.seq) AS seq FROM jobs
      JOIN events ON events.job_id = jobs.id AND json_extract(events.payload, '$.type') = 'job'
      WHERE jobs.status NOT IN ('queued', 'running') GROUP BY jobs.id`).all()
    this.db.transaction(() => {
      for (const { id, seq } of ended) this.pruneEvents(id, seq)
    })()
  }

  /** Runs `fn` in one transaction, then tells listeners about the events it committed. */
  private write<T>(fn: () => T): T {
    let result: T
    try {
      result = this.db.transaction(fn)()
    }
    catch (err) {
      this.pending = []
      throw err
    }
    const committed = this.pending
    this.pending = []
    for (const entry of committed) {
      for (const listener of this.listeners) {
        try {
          listener(entry)
        }
        catch {
          // A broken subscriber (e.g. a closed SSE socket) must not fail the journal write.
        }
      }
    }
    return result
  }

  private toJob(row: Row): Job {
    const steps = prepared(this.db, 'SELECT * FROM steps WHERE job_id = ? ORDER BY position').all(row.id) as Row[]
    return jobRows.fromRow(row, { steps: steps.map(step => stepRows.fromRow(step)) })
  }
}
