/**
 * The one migration scheme of this repository's SQLite files: the web's store (web.sqlite) and
 * the sidecar's journal (journal.sqlite). Node only (better-sqlite3).
 */
import type Database from 'better-sqlite3'

/** SQL, or a function for what SQL alone cannot say (adding a column only where it is missing). */
export type Migration = string | ((db: Database.Database) => void)

/**
 * Applies the migrations a file has not had yet, in order. `PRAGMA user_version` counts the ones
 * applied; each runs in one immediate transaction with its version bump, so a crash leaves the
 * file at one version or the next, never in between. A file from a newer program (a higher
 * version) is left as it is: migrations only add, so older code still reads it.
 * Append-only: a shipped migration never changes, a change is a new entry.
 */
export function migrate(db: Database.Database, migrations: readonly Migration[]): void {
  const current = db.pragma('user_version', { simple: true }) as number
  for (let version = current; version < migrations.length; version++) {
    const migration = migrations[version]!
    db.transaction(() => {
      if (typeof migration === 'string') db.exec(migration)
      else migration(db)
      db.pragma(`user_version = ${version + 1}`)
    }).immediate()
  }
}

/**
 * Adds the columns a table lacks. For files made before they counted their migrations, which may
 * already have some of the columns a migration adds.
 */
export function addMissingColumns(table: string, columns: ReadonlyArray<[name: string, definition: string]>): Migration {
  return (db) => {
    const existing = columnsOf(db, table)
    for (const [name, definition] of columns) {
      if (!existing.has(name)) db.exec(`ALTER TABLE ${table} ADD COLUMN ${name} ${definition}`)
    }
  }
}

/** The names of a table's columns. */
export function columnsOf(db: Database.Database, table: string): Set<string> {
  return new Set((db.pragma(`table_info(${table})`) as Array<{ name: string }>).map(column => column.name))
}
