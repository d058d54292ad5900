/**
 * Opening one of this repository's SQLite files (web.sqlite, journal.sqlite) the one way: owner
 * only (shared/node/private-files.ts), checked for corruption before anything is read from it,
 * and any failure names the file, so a broken store stops the process with a message that says
 * which file to look at. Node only (better-sqlite3).
 */
import Database from 'better-sqlite3'
import { preparePrivateDatabase } from './private-files'

/** Thrown when the file cannot be opened or fails SQLite's integrity check. */
export class UnreadableDatabaseError extends Error {
  constructor(readonly path: string, what: string, reason: string, options?: ErrorOptions) {
    super(`the ${what} ${path} is unreadable: ${reason} (restore it from a backup, or move it aside to start with an empty one)`, options)
    this.name = 'UnreadableDatabaseError'
  }
}

function reasonOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}

/**
 * Opens `path`, runs `pragmas` (journal mode and the like), SQLite's quick_check, then `prepare`
 * (migrations, column checks). `what` names the file's role in messages ("web store").
 */
export function openSqliteFile(path: string, what: string, pragmas: readonly string[], prepare: (db: Database.Database) => void): Database.Database {
  let db: Database.Database | undefined
  try {
    preparePrivateDatabase(path)
    db = new Database(path)
    for (const pragma of pragmas) db.pragma(pragma)
    const problems = db.pragma('quick_check(5)', { simple: false }) as Array<{ quick_check: string }>
    const found = problems.map(row => row.quick_check).filter(line => line !== 'ok')
    if (found.length > 0) throw new Error(`it is corrupt (${found.join('; ')})`)
    prepare(db)
    return db
  }
  catch (err) {
    db?.close()
    throw new UnreadableDatabaseError(path, what, reasonOf(err), { cause: err })
  }
}

/** A cheap look at a file that was open all along: its header and each table's first page still read. */
export function probeSqliteFile(db: Database.Database, path: string, what: string, tables: readonly string[]): void {
  try {
    db.pragma('schema_version')
    for (const table of tables) prepared(db, `SELECT 1 FROM ${table} LIMIT 1`).get()
  }
  catch (err) {
    throw new UnreadableDatabaseError(path, what, reasonOf(err), { cause: err })
  }
}

const statements = new WeakMap<Database.Database, Map<string, Database.Statement>>()

/**
 * `db.prepare(sql)`, compiled once per connection and reused: hot reads (every status read, every
 * journal event) would otherwise parse and plan the same SQL on each call.
 */
export function prepared<P extends unknown[] | object = unknown[], R = unknown>(db: Database.Database, sql: string): Database.Statement<P, R> {
  let cache = statements.get(db)
  if (!cache) statements.set(db, cache = new Map())
  let statement = cache.get(sql)
  if (!statement) cache.set(sql, statement = db.prepare(sql))
  return statement as unknown as Database.Statement<P, R>
}
