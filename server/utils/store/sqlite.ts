/**
 * The embedded store: one SQLite file (WAL) under the data dir. Framework-independent (no Nitro
 * auto-imports) so scripts and tests open it directly. Relative imports for the same reason.
 */
import { randomUUID } from 'node:crypto'
import Database from 'better-sqlite3'
import { assertTransition, isTerminalStatus, queuedRun, runOfJob } from '../../../shared/run-state'
import { autoUpdatePolicySchema } from '../../../shared/auto-update'
import { channelSchema } from '../../../shared/schemas/common'
import { runAcknowledgementSchema, runSchema, storedUserSchema, type Run, type RunAcknowledgement } from '../../../shared/schemas/api'
import { SqliteOutboxStore } from '../../../shared/node/notify/sqlite-outbox'
import { jobSchema, type Job } from '../../../shared/schemas/job'
import { releaseCacheSchema, releaseTrustSchema, type ReleaseTrust } from '../../../shared/schemas/release'
import { migrate } from '../../../shared/node/sqlite-migrations'
import { rowCodec } from '../../../shared/node/sqlite-rows'
import { openSqliteFile, prepared, probeSqliteFile } from '../../../shared/node/sqlite-open'
import {
  ActiveRunError, DEFAULT_SETTINGS, DuplicateUserError, RunNotFoundError, UserNotFoundError, mergeSettings, releaseCheckStateSchema,
  type NewRun, type NewUser, type UserPatch, type ReleaseCache, type ReleaseCheckState, type RunPatch, type SystemSettings, type SystemStore,
} from './types'

/** web.sqlite's schema, migration by migration (shared/node/sqlite-migrations.ts). */
const MIGRATIONS = [
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
  // Raised to end every session of a user (sign-out, a new password, a role change).
  `
  ALTER TABLE users ADD COLUMN session_version INTEGER NOT NULL DEFAULT 0;
  `,
  // What release indexes taught the instance (the ratchet, rotated keys): one row.
  `
  CREATE TABLE release_trust (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    highest_serial INTEGER,
    highest_version TEXT,
    index_text TEXT,
    index_signature TEXT,
    learned_keys TEXT NOT NULL DEFAULT '[]',
    retired_keys TEXT NOT NULL DEFAULT '[]',
    rollback_refusal TEXT
  );
  INSERT INTO release_trust (id) VALUES (1);
  `,
  // Failing checks an admin ignored to start the run, with the reason (JSON).
  `
  ALTER TABLE runs ADD COLUMN override TEXT;
  `,
  // The versions a run through required upgrade stops installs, one hop each (JSON).
  `
  ALTER TABLE runs ADD COLUMN path TEXT;
  `,
  // The plan a rehearsal was opened with, for its report (JSON).
  `
  ALTER TABLE runs ADD COLUMN plan TEXT;
  `,
  // Automatic updates (issue 17): each admin's notification preference, and the scheduler's slot
  // (one row, so claiming is a single conditional UPDATE like the release check's). The policy
  // itself is a settings row; the outbox makes its own table (shared/node/notify/sqlite-outbox.ts).
  `
  ALTER TABLE users ADD COLUMN notifications TEXT NOT NULL DEFAULT 'all' CHECK (notifications IN ('all', 'security', 'none'));
  CREATE TABLE auto_update_slot (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    next_at INTEGER
  );
  INSERT INTO auto_update_slot (id) VALUES (1);
  `,
]

// Each table's rows follow the shared schema of what it stores; opening the file checks the columns.
const runRows = rowCodec('runs', runSchema)
const userRows = rowCodec('users', storedUserSchema)
const acknowledgementRows = rowCodec('run_acknowledgements', runAcknowledgementSchema)
const cacheRows = rowCodec('release_cache', releaseCacheSchema)
const checkRows = rowCodec('release_check', releaseCheckStateSchema)
const trustRows = rowCodec('release_trust', releaseTrustSchema)

type Row = Record<string, unknown>

function isUniqueViolation(err: unknown, needle: string): boolean {
  return err instanceof Database.SqliteError
    && err.code === 'SQLITE_CONSTRAINT_UNIQUE'
    && err.message.includes(needle)
}

const TABLES = ['users', 'runs', 'dismissals', 'release_cache', 'settings', 'release_check', 'run_acknowledgements', 'release_trust', 'auto_update_slot'] as const
const WHAT = 'web store'

/** The most recent runs kept between changes (a status read lists 50). */
const STATUS_RUNS_KEPT = 100

/** Opens (or creates) the store; a corrupt or unreadable file throws an error naming it. */
export function openSqliteStore(file: string): SystemStore {
  // Another process (the create-user script, a second web) may hold the write lock briefly.
  const db = openSqliteFile(file, WHAT, ['journal_mode = WAL', 'busy_timeout = 5000', 'foreign_keys = ON'], (db) => {
    migrate(db, MIGRATIONS)
    for (const rows of [runRows, userRows, acknowledgementRows, cacheRows, checkRows, trustRows]) rows.assertColumns(db)
  })

  const runById = prepared<[string], Row>(db, 'SELECT * FROM runs WHERE id = ?')
  const runByJobId = prepared<[string], Row>(db, 'SELECT * FROM runs WHERE job_id = ?')
  const activeRunId = prepared<[], { id: string }>(db, `SELECT id FROM runs WHERE status IN ('queued', 'running')`)
  const acknowledgementOf = prepared<[string], Row>(db, 'SELECT * FROM run_acknowledgements WHERE run_id = ?')
  // Prepared once: the standalone app's user resolver reads the user on every request.
  const userById = prepared<[string], Row>(db, 'SELECT * FROM users WHERE id = ?')
  // What status reads ask for several times a second, kept until anything changes: another
  // connection's commit moves `data_version`, this connection's own writes `total_changes()`.
  const stamp = prepared<[], { changes: string }>(db, 'SELECT (SELECT data_version FROM pragma_data_version) || \'.\' || total_changes() AS changes')
  function kept<T>(read: () => T): () => T {
    let last: { changes: string, value: T } | null = null
    return () => {
      const { changes } = stamp.get()!
      if (last?.changes !== changes) last = { changes, value: read() }
      return last.value
    }
  }
  const releaseTrust = kept(() => trustRows.fromRow(prepared<[], Row>(db, 'SELECT * FROM release_trust WHERE id = 1').get()!))
  const newestRuns = (n: number) => prepared<[number], Row>(db, 'SELECT * FROM runs ORDER BY started_at DESC, seq DESC LIMIT ?').all(n).map(row => runRows.fromRow(row))
  const statusRuns = kept(() => newestRuns(STATUS_RUNS_KEPT))
  const userByEmail = prepared<[string], Row>(db, 'SELECT * FROM users WHERE email = ?')
  const allUsers = prepared<[], Row>(db, 'SELECT * FROM users ORDER BY email')
  const raiseSessionVersion = prepared<[string]>(db, 'UPDATE users SET session_version = session_version + 1 WHERE id = ?')

  const outbox = new SqliteOutboxStore(db)

  const settingValue = prepared<[string], { value: string }>(db, 'SELECT value FROM settings WHERE key = ?')
  const putSetting = prepared<[string, string]>(db, 'INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value')
  /** The channel is its own row (from before the policy); the policy one JSON row, read through its schema. */
  function readSettings(): SystemSettings {
    const channel = settingValue.get('channel')
    const policy = settingValue.get('autoUpdatePolicy')
    return {
      channel: channel ? channelSchema.parse(channel.value) : DEFAULT_SETTINGS.channel,
      ...autoUpdatePolicySchema.parse(policy ? JSON.parse(policy.value) : {}),
    }
  }

  function requireRun(runId: string): Run {
    const row = runById.get(runId)
    if (!row) throw new RunNotFoundError(runId)
    return runRows.fromRow(row)
  }

  /** Inserts a run; the unique index on active runs is what refuses a second one. */
  function insertRun(run: Run): Run {
    try {
      runRows.insert(db, run)
    }
    catch (err) {
      if (isUniqueViolation(err, 'runs_single_active')) throw new ActiveRunError(activeRunId.get()?.id ?? null)
      throw err
    }
    return requireRun(run.id)
  }

  const updateRunTx = db.transaction((runId: string, patch: RunPatch): Run => {
    const run = requireRun(runId)
    if (patch.status) assertTransition(run.status, patch.status)
    const endedAt = patch.endedAt !== undefined
      ? patch.endedAt
      : run.endedAt ?? (patch.status && isTerminalStatus(patch.status) ? Date.now() : null)
    const updated = runSchema.parse({
      ...run,
      status: patch.status ?? run.status,
      steps: patch.steps ?? run.steps,
      reason: patch.reason !== undefined ? patch.reason : run.reason,
      endedAt,
    })
    prepared(db, 'UPDATE runs SET status = @status, steps = @steps, reason = @reason, ended_at = @ended_at WHERE id = @id')
      .run(runRows.toRow(updated))
    return requireRun(runId)
  })

  // Look-up and insert in one immediate transaction: a second connection adopting the same job
  // waits, then finds the first one's run.
  const adoptJobTx = db.transaction((job: Job): Run => {
    const existing = runByJobId.get(job.id)
    if (existing) return runRows.fromRow(existing)
    return insertRun({ id: randomUUID(), ...runOfJob(job) })
  })

  return {
    async getUserByEmail(email) {
      const row = userByEmail.get(email.toLowerCase())
      return row ? userRows.fromRow(row) : null
    },

    async getUserById(id) {
      const row = userById.get(id)
      return row ? userRows.fromRow(row) : null
    },

    async listUsers() {
      return allUsers.all().map(row => userRows.fromRow(row))
    },

    async updateUser(id: string, patch: UserPatch) {
      return db.transaction(() => {
        const row = userById.get(id)
        if (!row) throw new UserNotFoundError(id)
        const user = userRows.fromRow(row)
        const changes = userRows.toRow({
          ...(patch.role !== undefined && patch.role !== user.role ? { role: patch.role } : {}),
          ...(patch.passwordHash !== undefined ? { passwordHash: patch.passwordHash } : {}),
        })
        const columns = Object.keys(changes)
        if (columns.length === 0) return user
        db.prepare(`UPDATE users SET ${columns.map(column => `${column} = @${column}`).join(', ')}, session_version = session_version + 1 WHERE id = @id`)
          .run({ ...changes, id })
        return userRows.fromRow(userById.get(id)!)
      }).immediate()
    },

    async revokeSessions(id) {
      if (raiseSessionVersion.run(id).changes === 0) return null
      return userRows.fromRow(userById.get(id)!)
    },

    async setNotificationPreference(id, preference) {
      const stored = storedUserSchema.shape.notifications.parse(preference)
      if (prepared<[string, string]>(db, 'UPDATE users SET notifications = ? WHERE id = ?').run(stored, id).changes === 0) throw new UserNotFoundError(id)
      return userRows.fromRow(userById.get(id)!)
    },

    async createUser(user: NewUser) {
      const stored = storedUserSchema.parse({ ...user, id: randomUUID(), email: user.email.toLowerCase(), createdAt: Date.now() })
      try {
        userRows.insert(db, stored)
      }
      catch (err) {
        if (isUniqueViolation(err, 'users.email')) throw new DuplicateUserError(stored.email)
        throw err
      }
      return stored
    },

    async openRun(run: NewRun) {
      return insertRun({ id: randomUUID(), ...queuedRun(run, Date.now()) })
    },

    async attachJob(runId, jobId) {
      const result = prepared(db, 'UPDATE runs SET job_id = ? WHERE id = ?').run(jobId, runId)
      if (result.changes === 0) throw new RunNotFoundError(runId)
      return requireRun(runId)
    },

    async updateRun(runId, patch) {
      return updateRunTx.immediate(runId, patch)
    },

    async getRun(runId) {
      const row = runById.get(runId)
      return row ? runRows.fromRow(row) : null
    },

    async getRunByJobId(jobId) {
      const row = runByJobId.get(jobId)
      return row ? runRows.fromRow(row) : null
    },

    async adoptJob(job) {
      return adoptJobTx.immediate(jobSchema.parse(job))
    },

    async getActiveRun() {
      const row = prepared<[], Row>(db, `SELECT * FROM runs WHERE status IN ('queued', 'running')`).get()
      return row ? runRows.fromRow(row) : null
    },

    async listRuns(limit) {
      const n = Math.max(1, Math.min(Math.trunc(limit), 1000))
      // Every status read lists the recent runs: those come from what is kept while nothing changed.
      return n <= STATUS_RUNS_KEPT ? statusRuns().slice(0, n) : newestRuns(n)
    },

    async acknowledgeRun(runId, by): Promise<RunAcknowledgement> {
      requireRun(runId)
      acknowledgementRows.insert(db, { runId, userId: by.userId, email: by.email, acknowledgedAt: Date.now() }, { orIgnore: true })
      return acknowledgementRows.fromRow(acknowledgementOf.get(runId)!)
    },

    async getAcknowledgement(runId) {
      const row = acknowledgementOf.get(runId)
      return row ? acknowledgementRows.fromRow(row) : null
    },

    async dismiss(by, version) {
      prepared(db, 'INSERT OR IGNORE INTO dismissals (user_id, version, dismissed_at) VALUES (?, ?, ?)').run(by.userId, version, Date.now())
    },

    async isDismissed(userId, version) {
      return prepared(db, 'SELECT 1 FROM dismissals WHERE user_id = ? AND version = ?').get(userId, version) !== undefined
    },

    async getReleaseCache(): Promise<ReleaseCache> {
      const row = prepared<[], Row>(db, 'SELECT * FROM release_cache WHERE id = 1').get()
      return row ? cacheRows.fromRow(row) : { releases: [], checkedAt: null, error: null }
    },

    async saveReleaseCache(cache) {
      prepared(db, `INSERT INTO release_cache (id, releases, checked_at, error) VALUES (1, @releases, @checked_at, @error)
        ON CONFLICT (id) DO UPDATE SET releases = excluded.releases, checked_at = excluded.checked_at, error = excluded.error`)
        .run(cacheRows.toRow(releaseCacheSchema.parse(cache)))
    },

    async getReleaseCheckState(): Promise<ReleaseCheckState> {
      return checkRows.fromRow(prepared<[], Row>(db, 'SELECT * FROM release_check WHERE id = 1').get()!)
    },

    async saveReleaseCheckState(patch) {
      const fields = checkRows.toRow(releaseCheckStateSchema.omit({ nextCheckAt: true }).partial().parse(patch))
      const columns = Object.keys(fields)
      if (columns.length === 0) return
      // Column names come from the schema, never from the caller.
      prepared(db, `UPDATE release_check SET ${columns.map(column => `${column} = @${column}`).join(', ')} WHERE id = 1`).run(fields)
    },

    async claimReleaseCheck(now, nextAt) {
      // One conditional UPDATE: SQLite serialises writers, so of concurrent claimers one sees the due slot.
      const result = prepared(db, 'UPDATE release_check SET next_check_at = ? WHERE id = 1 AND (next_check_at IS NULL OR next_check_at <= ?)')
        .run(nextAt, now)
      return result.changes === 1
    },

    async getReleaseTrust(): Promise<ReleaseTrust> {
      // Read several times by every status read (the index, the learned keys).
      return releaseTrust()
    },

    async saveReleaseTrust(patch) {
      const fields = trustRows.toRow(releaseTrustSchema.partial().parse(patch))
      const columns = Object.keys(fields)
      if (columns.length === 0) return true
      // One conditional UPDATE: the ratchet holds between concurrent writers too. Column names come from the schema.
      const ratchet = fields.highest_serial === undefined || fields.highest_serial === null ? '' : ' AND (highest_serial IS NULL OR highest_serial <= @highest_serial)'
      const result = prepared(db, `UPDATE release_trust SET ${columns.map(column => `${column} = @${column}`).join(', ')} WHERE id = 1${ratchet}`).run(fields)
      return result.changes === 1
    },

    async getSettings(): Promise<SystemSettings> {
      return readSettings()
    },

    async updateSettings(patch) {
      // Read, merge and write in one immediate transaction: a bad patch throws before anything is written.
      return db.transaction(() => {
        const { channel, ...policy } = mergeSettings(readSettings(), patch)
        putSetting.run('channel', channel)
        putSetting.run('autoUpdatePolicy', JSON.stringify(policy))
        return readSettings()
      }).immediate()
    },

    async claimAutoUpdate(now, nextAt) {
      const result = prepared(db, 'UPDATE auto_update_slot SET next_at = ? WHERE id = 1 AND (next_at IS NULL OR next_at <= ?)').run(nextAt, now)
      return result.changes === 1
    },

    outbox,

    async check() {
      probeSqliteFile(db, file, WHAT, TABLES)
    },

    async close() {
      db.close()
    },
  }
}
