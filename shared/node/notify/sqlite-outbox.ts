/**
 * The outbox (./outbox.ts) in a SQLite file: the embedded store's web.sqlite, or a file of its own.
 * Its table is made here when missing, with `CREATE … IF NOT EXISTS` rather than the file's
 * numbered migrations (shared/node/sqlite-migrations.ts): `user_version` counts the migrations of
 * whoever owns the file, and this table must fit into any of them. Columns added later go through
 * `addMissingColumns`, which is idempotent the same way. Rows follow `outboxRowSchema`
 * (shared/node/sqlite-rows.ts). Node only (better-sqlite3).
 */
import { randomUUID } from 'node:crypto'
import type Database from 'better-sqlite3'
import { z } from 'zod'
import { notificationSchema, storedDeliverySchema } from '../../notifications'
import { rowCodec } from '../sqlite-rows'
import { prepared } from '../sqlite-open'
import type { NewDelivery, OutboxDelivery, OutboxStore } from './outbox'

export const OUTBOX_TABLE = 'notification_outbox'

// Stored as JSON (an object on the way in), validated as a notification on the way out.
const outboxRowSchema = storedDeliverySchema.extend({
  notification: z.looseObject({}).pipe(notificationSchema),
})

const rows = rowCodec(OUTBOX_TABLE, outboxRowSchema)

const CREATE = `
CREATE TABLE IF NOT EXISTS ${OUTBOX_TABLE} (
  id TEXT PRIMARY KEY,
  notification_id TEXT NOT NULL,
  target TEXT NOT NULL,
  notification TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  delivered_at INTEGER,
  gave_up_at INTEGER,
  last_error TEXT,
  UNIQUE (notification_id, target)
)`

// After the column check, so a table of the wrong shape is named as such rather than failing here.
const INDEX = `
CREATE INDEX IF NOT EXISTS ${OUTBOX_TABLE}_pending ON ${OUTBOX_TABLE} (next_attempt_at, created_at)
  WHERE delivered_at IS NULL AND gave_up_at IS NULL;
`

export class SqliteOutboxStore implements OutboxStore {
  /** `db` stays the caller's: this store never closes it. */
  constructor(private readonly db: Database.Database) {
    db.exec(CREATE)
    rows.assertColumns(db)
    db.exec(INDEX)
  }

  enqueue(delivery: NewDelivery): boolean {
    rows.insert(this.db, { ...delivery, id: randomUUID(), attempts: 0, deliveredAt: null, gaveUpAt: null, lastError: null }, { orIgnore: true })
    // INSERT OR IGNORE on UNIQUE (notification_id, target) changes nothing when the pair is queued already.
    return prepared<[], { n: number }>(this.db, 'SELECT changes() AS n').get()!.n === 1
  }

  due(now: number, limit: number, claimUntil: number): OutboxDelivery[] {
    // IMMEDIATE takes the write lock before reading, so two outboxes on one file never claim the same row.
    return this.db.transaction(() => {
      const found = prepared<[number, number], Record<string, unknown>>(this.db, `
        SELECT * FROM ${OUTBOX_TABLE}
        WHERE delivered_at IS NULL AND gave_up_at IS NULL AND next_attempt_at <= ?
        ORDER BY next_attempt_at, created_at LIMIT ?`).all(now, limit)
      const claim = prepared<[number, string]>(this.db, `UPDATE ${OUTBOX_TABLE} SET attempts = attempts + 1, next_attempt_at = ? WHERE id = ?`)
      return found.map((row) => {
        claim.run(claimUntil, row.id as string)
        return rows.fromRow({ ...row, attempts: (row.attempts as number) + 1, next_attempt_at: claimUntil })
      })
    }).immediate()
  }

  markDelivered(id: string, at: number): void {
    prepared<[number, string]>(this.db, `UPDATE ${OUTBOX_TABLE} SET delivered_at = ?, gave_up_at = NULL, last_error = NULL WHERE id = ?`).run(at, id)
  }

  markFailed(id: string, nextAttemptAt: number | null, error: string, at: number): void {
    if (nextAttemptAt === null) {
      prepared<[number, string, string]>(this.db, `UPDATE ${OUTBOX_TABLE} SET gave_up_at = ?, last_error = ? WHERE id = ? AND delivered_at IS NULL`).run(at, error, id)
    }
    else {
      prepared<[number, string, string]>(this.db, `UPDATE ${OUTBOX_TABLE} SET next_attempt_at = ?, last_error = ? WHERE id = ? AND delivered_at IS NULL`).run(nextAttemptAt, error, id)
    }
  }

  deliveriesOf(notificationId: string): OutboxDelivery[] {
    return prepared<[string], Record<string, unknown>>(this.db, `SELECT * FROM ${OUTBOX_TABLE} WHERE notification_id = ? ORDER BY created_at, target`)
      .all(notificationId)
      .map(row => rows.fromRow(row))
  }
}
