/**
 * The embedded store: one SQLite file (WAL) under the data dir. Framework-independent (no Nitro
 * auto-imports) so scripts and tests open it directly. Relative imports for the same reason.
 */
import { randomUUID } from 'node:crypto'
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import Database from 'better-sqlite3'
import { z } from 'zod'
import { assertTransition, isTerminalStatus } from '../../../shared/run-state'
import { channelSchema, requestedBySchema, stepSchema } from '../../../shared/schemas/common'
import { runAcknowledgementSchema, userRoleSchema, type Run, type RunAcknowledgement } from '../../../shared/schemas/api'
import { jobSchema, type Job } from '../../../shared/schemas/job'
import { releaseSchema } from '../../../shared/schemas/release'
import {
  ActiveRunError, DEFAULT_SETTINGS, DuplicateUserError, RunNotFoundError,
  type NewRun, type NewUser, type ReleaseCache, type ReleaseCheckState, type RunPatch, type StoredUser, type SystemSettings, type SystemStore,
} from './types'

/** Append-only: each entry runs once, in order, tracked by `PRAGMA user_version`. */
const MIGRATIONS: string[] = [
  `
  CREATE TABLE users (
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL CHECK (role IN ('platform-admin', 'member')),
    password_hash TEXT NOT NULL,
    created_at INTEGER NOT NULL
  );
  CREATE TABLE runs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    job_id TEXT,
    kind TEXT NOT NULL,
    from_version TEXT NOT NULL,
    to_version TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'rolled_back', 'failed')),
    reason TEXT,
    requested_by TEXT NOT NULL,
    started_at INTEGER NOT NULL,
    ended_at INTEGER,
    steps TEXT NOT NULL DEFAULT '[]'
  );
  -- At most one active run per instance: every active row indexes the same value.
  CREATE UNIQUE INDEX runs_single_active ON runs ((status IN ('queued', 'running'))) WHERE status IN ('queued', 'running');
  CREATE TABLE dismissals (
    user_id TEXT NOT NULL,
    version TEXT NOT NULL,
    dismissed_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, version)
  );
  CREATE TABLE release_cache (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    releases TEXT NOT NULL,
    checked_at INTEGER,
    error TEXT
  );
  CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
  );
  `,
  // A sidecar job belongs to one run at most: adopting a job twice must find the first run.
  `
  CREATE UNIQUE INDEX runs_job_id ON runs (job_id) WHERE job_id IS NOT NULL;
  `,
  // Release check state: one row, made here so claiming is a single conditional UPDATE.
  `
  CREATE TABLE release_check (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    next_check_at INTEGER,
    retry_at INTEGER,
    etag TEXT,
    fingerprints TEXT NOT NULL DEFAULT '{}'
  );
  INSERT INTO release_check (id) VALUES (1);
  `,
  // Who acknowledged a failed or rolled-back run: one row per run, the first one stands.
  `
  CREATE TABLE run_acknowledgements (
    run_id TEXT PRIMARY KEY REFERENCES runs (id),
    user_id TEXT NOT NULL,
    email TEXT NOT NULL,
    acknowledged_at INTEGER NOT NULL
  );
  `,
]

interface UserRow {
  id: string
  email: string
  role: string
  password_hash: string
  created_at: number
}

interface RunRow {
  id: string
  job_id: string | null
  kind: string
  from_version: string
  to_version: string
  status: string
  reason: string | null
  requested_by: string
  started_at: number
  ended_at: number | null
  steps: string
}

interface CheckRow {
  next_check_at: number | null
  retry_at: number | null
  etag: string | null
  fingerprints: string
}

const fingerprintsSchema = z.record(z.string(), z.string())

interface AckRow {
  run_id: string
  user_id: string
  email: string
  acknowledged_at: number
}

interface CacheRow {
  releases: string
  checked_at: number | null
  error: string | null
}

const runRowSchema = z.object({
  id: z.string(),
  jobId: z.string().nullable(),
  kind: z.enum(['update', 'rollback']),
  fromVersion: z.string(),
  toVersion: z.string(),
  status: z.enum(['queued', 'running', 'succeeded', 'rolled_back', 'failed']),
  reason: z.string().nullable(),
  requestedBy: requestedBySchema,
  startedAt: z.number(),
  endedAt: z.number().nullable(),
  steps: z.array(stepSchema),
})

// Rows are parsed on the way out: a hand-edited or half-migrated file fails loudly, not subtly.
function toRun(row: RunRow): Run {
  return runRowSchema.parse({
    id: row.id,
    jobId: row.job_id,
    kind: row.kind,
    fromVersion: row.from_version,
    toVersion: row.to_version,
    status: row.status,
    reason: row.reason,
    requestedBy: JSON.parse(row.requested_by),
    startedAt: row.started_at,
    endedAt: row.ended_at,
    steps: JSON.parse(row.steps),
  })
}

function toAcknowledgement(row: AckRow): RunAcknowledgement {
  return runAcknowledgementSchema.parse({ runId: row.run_id, userId: row.user_id, email: row.email, acknowledgedAt: row.acknowledged_at })
}

function toUser(row: UserRow): StoredUser {
  return {
    id: row.id,
    email: row.email,
    role: userRoleSchema.parse(row.role),
    passwordHash: row.password_hash,
    createdAt: row.created_at,
  }
}

function isUniqueViolation(err: unknown, needle: string): boolean {
  return err instanceof Database.SqliteError
    && err.code === 'SQLITE_CONSTRAINT_UNIQUE'
    && err.message.includes(needle)
}

function migrate(db: Database.Database): void {
  const current = db.pragma('user_version', { simple: true }) as number
  for (let v = current; v < MIGRATIONS.length; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v]!)
      db.pragma(`user_version = ${v + 1}`)
    }).immediate()
  }
}

export function openSqliteStore(file: string): SystemStore {
  mkdirSync(dirname(file), { recursive: true })
  const db = new Database(file)
  db.pragma('journal_mode = WAL')
  // Another process (the create-user script, a second web) may hold the write lock briefly.
  db.pragma('busy_timeout = 5000')
  db.pragma('foreign_keys = ON')
  migrate(db)

  const runById = db.prepare<[string], RunRow>('SELECT * FROM runs WHERE id = ?')
  const runByJobId = db.prepare<[string], RunRow>('SELECT * FROM runs WHERE job_id = ?')
  const activeRunId = db.prepare<[], { id: string }>(`SELECT id FROM runs WHERE status IN ('queued', 'running')`)

  function requireRun(runId: string): RunRow {
    const row = runById.get(runId)
    if (!row) throw new RunNotFoundError(runId)
    return row
  }

  const updateRunTx = db.transaction((runId: string, patch: RunPatch): Run => {
    const row = requireRun(runId)
    const status = patch.status ?? row.status
    if (patch.status) assertTransition(toRun(row).status, patch.status)
    const endedAt = patch.endedAt !== undefined
      ? patch.endedAt
      : row.ended_at ?? (patch.status && isTerminalStatus(patch.status) ? Date.now() : null)
    db.prepare(`UPDATE runs SET status = ?, steps = ?, reason = ?, ended_at = ? WHERE id = ?`).run(
      status,
      patch.steps ? JSON.stringify(patch.steps) : row.steps,
      patch.reason !== undefined ? patch.reason : row.reason,
      endedAt,
      runId,
    )
    return toRun(requireRun(runId))
  })

  // Look-up and insert in one immediate transaction: a second connection adopting the same job
  // waits, then finds the first one's run.
  const adoptJobTx = db.transaction((job: Job): Run => {
    const existing = runByJobId.get(job.id)
    if (existing) return toRun(existing)
    const id = randomUUID()
    try {
      db.prepare(`INSERT INTO runs (id, job_id, kind, from_version, to_version, status, reason, requested_by, started_at, ended_at, steps)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(
        id, job.id, job.kind, job.fromVersion, job.toVersion, job.status, job.reason,
        JSON.stringify(job.requestedBy), job.startedAt ?? job.createdAt, job.endedAt, JSON.stringify(job.steps),
      )
    }
    catch (err) {
      if (isUniqueViolation(err, 'runs_single_active')) throw new ActiveRunError(activeRunId.get()?.id ?? null)
      throw err
    }
    return toRun(requireRun(id))
  })

  return {
    async getUserByEmail(email) {
      const row = db.prepare<[string], UserRow>('SELECT * FROM users WHERE email = ?').get(email.toLowerCase())
      return row ? toUser(row) : null
    },

    async getUserById(id) {
      const row = db.prepare<[string], UserRow>('SELECT * FROM users WHERE id = ?').get(id)
      return row ? toUser(row) : null
    },

    async createUser(user: NewUser) {
      const email = user.email.toLowerCase()
      const row: UserRow = {
        id: randomUUID(),
        email,
        role: userRoleSchema.parse(user.role),
        password_hash: user.passwordHash,
        created_at: Date.now(),
      }
      try {
        db.prepare('INSERT INTO users (id, email, role, password_hash, created_at) VALUES (@id, @email, @role, @password_hash, @created_at)').run(row)
      }
      catch (err) {
        if (isUniqueViolation(err, 'users.email')) throw new DuplicateUserError(email)
        throw err
      }
      return toUser(row)
    },

    async openRun(run: NewRun) {
      const id = randomUUID()
      try {
        db.prepare(`INSERT INTO runs (id, kind, from_version, to_version, status, requested_by, started_at, steps)
          VALUES (?, ?, ?, ?, 'queued', ?, ?, '[]')`).run(
          id, run.kind, run.fromVersion, run.toVersion, JSON.stringify(requestedBySchema.parse(run.requestedBy)), Date.now(),
        )
      }
      catch (err) {
        if (isUniqueViolation(err, 'runs_single_active')) throw new ActiveRunError(activeRunId.get()?.id ?? null)
        throw err
      }
      return toRun(requireRun(id))
    },

    async attachJob(runId, jobId) {
      const result = db.prepare('UPDATE runs SET job_id = ? WHERE id = ?').run(jobId, runId)
      if (result.changes === 0) throw new RunNotFoundError(runId)
      return toRun(requireRun(runId))
    },

    async updateRun(runId, patch) {
      return updateRunTx.immediate(runId, patch)
    },

    async getRun(runId) {
      const row = runById.get(runId)
      return row ? toRun(row) : null
    },

    async getRunByJobId(jobId) {
      const row = runByJobId.get(jobId)
      return row ? toRun(row) : null
    },

    async adoptJob(job) {
      return adoptJobTx.immediate(jobSchema.parse(job))
    },

    async getActiveRun() {
      const row = db.prepare<[], RunRow>(`SELECT * FROM runs WHERE status IN ('queued', 'running')`).get()
      return row ? toRun(row) : null
    },

    async listRuns(limit) {
      const n = Math.max(1, Math.min(Math.trunc(limit), 1000))
      return db.prepare<[number], RunRow>('SELECT * FROM runs ORDER BY started_at DESC, seq DESC LIMIT ?').all(n).map(toRun)
    },

    async acknowledgeRun(runId, by) {
      requireRun(runId)
      db.prepare('INSERT OR IGNORE INTO run_acknowledgements (run_id, user_id, email, acknowledged_at) VALUES (?, ?, ?, ?)')
        .run(runId, by.userId, by.email, Date.now())
      return toAcknowledgement(db.prepare<[string], AckRow>('SELECT * FROM run_acknowledgements WHERE run_id = ?').get(runId)!)
    },

    async getAcknowledgement(runId) {
      const row = db.prepare<[string], AckRow>('SELECT * FROM run_acknowledgements WHERE run_id = ?').get(runId)
      return row ? toAcknowledgement(row) : null
    },

    async dismiss(userId, version) {
      db.prepare('INSERT OR IGNORE INTO dismissals (user_id, version, dismissed_at) VALUES (?, ?, ?)').run(userId, version, Date.now())
    },

    async isDismissed(userId, version) {
      return db.prepare('SELECT 1 FROM dismissals WHERE user_id = ? AND version = ?').get(userId, version) !== undefined
    },

    async getReleaseCache(): Promise<ReleaseCache> {
      const row = db.prepare<[], CacheRow>('SELECT releases, checked_at, error FROM release_cache WHERE id = 1').get()
      if (!row) return { releases: [], checkedAt: null, error: null }
      return {
        releases: z.array(releaseSchema).parse(JSON.parse(row.releases)),
        checkedAt: row.checked_at,
        error: row.error,
      }
    },

    async saveReleaseCache(cache) {
      db.prepare(`INSERT INTO release_cache (id, releases, checked_at, error) VALUES (1, ?, ?, ?)
        ON CONFLICT (id) DO UPDATE SET releases = excluded.releases, checked_at = excluded.checked_at, error = excluded.error`)
        .run(JSON.stringify(cache.releases), cache.checkedAt, cache.error)
    },

    async getReleaseCheckState(): Promise<ReleaseCheckState> {
      const row = db.prepare<[], CheckRow>('SELECT next_check_at, retry_at, etag, fingerprints FROM release_check WHERE id = 1').get()!
      return {
        nextCheckAt: row.next_check_at,
        retryAt: row.retry_at,
        etag: row.etag,
        fingerprints: fingerprintsSchema.parse(JSON.parse(row.fingerprints)),
      }
    },

    async saveReleaseCheckState(patch) {
      const columns: [string, string | number | null | undefined][] = [
        ['retry_at', patch.retryAt],
        ['etag', patch.etag],
        ['fingerprints', patch.fingerprints === undefined ? undefined : JSON.stringify(fingerprintsSchema.parse(patch.fingerprints))],
      ]
      const named = columns.filter(([, value]) => value !== undefined)
      if (named.length === 0) return
      // Column names come from the fixed list above, never from the caller.
      db.prepare(`UPDATE release_check SET ${named.map(([column]) => `${column} = ?`).join(', ')} WHERE id = 1`)
        .run(...named.map(([, value]) => value ?? null))
    },

    async claimReleaseCheck(now, nextAt) {
      // One conditional UPDATE: SQLite serialises writers, so of concurrent claimers one sees the due slot.
      const result = db.prepare('UPDATE release_check SET next_check_at = ? WHERE id = 1 AND (next_check_at IS NULL OR next_check_at <= ?)')
        .run(nextAt, now)
      return result.changes === 1
    },

    async getSettings(): Promise<SystemSettings> {
      const row = db.prepare<[string], { value: string }>('SELECT value FROM settings WHERE key = ?').get('channel')
      return { channel: row ? channelSchema.parse(row.value) : DEFAULT_SETTINGS.channel }
    },

    async updateSettings(patch) {
      if (patch.channel !== undefined) {
        db.prepare(`INSERT INTO settings (key, value) VALUES ('channel', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`)
          .run(channelSchema.parse(patch.channel))
      }
      return this.getSettings()
    },

    async close() {
      db.close()
    },
  }
}
