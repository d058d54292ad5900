/**
 * SQLite rows derived from the shared zod schemas, so a record's shape is written once (in
 * `shared/schemas`) and the tables of both SQLite files follow it. Node only (better-sqlite3).
 */
import type Database from 'better-sqlite3'
import { z } from 'zod'
import { columnsOf } from './sqlite-migrations'
import { prepared } from './sqlite-open'

type SqliteValue = string | number | null
type Storage = 'json' | 'boolean' | 'plain'

/** How a field is stored: objects and arrays as JSON text, booleans as 0/1, the rest as is. */
function storageOf(field: z.core.$ZodType): Storage {
  let current = field
  for (;;) {
    const def = current._zod.def
    if ('innerType' in def) current = def.innerType as z.core.$ZodType // nullable, optional, default…
    else if (def.type === 'pipe' && 'in' in def) current = def.in as z.core.$ZodType
    else if (['object', 'array', 'record', 'tuple'].includes(def.type)) return 'json'
    else return def.type === 'boolean' ? 'boolean' : 'plain'
  }
}

const snakeCase = (name: string) => name.replace(/[A-Z]/g, letter => `_${letter.toLowerCase()}`)

export interface RowCodec<S extends z.ZodObject> {
  readonly table: string
  /** The column of each field the table stores. */
  readonly columns: Readonly<Record<string, string>>
  /** The record a row holds, parsed with the schema; `extra` supplies fields kept elsewhere. */
  fromRow(row: Record<string, unknown>, extra?: Record<string, unknown>): z.output<S>
  /** The columns of (part of) a record, ready for named parameters (`@column`). */
  toRow(value: Partial<z.input<S>>): Record<string, SqliteValue>
  /** Inserts a whole record, validated with the schema first. */
  insert(db: Database.Database, value: z.input<S>, options?: { orIgnore?: boolean }): void
  /** Throws unless the table has a column for every field the schema needs. */
  assertColumns(db: Database.Database): void
}

/**
 * The rows of `table` for records of `schema`: field `fooBar` is column `foo_bar` unless
 * `columns` names another; `omit` lists fields the table does not hold (the caller passes them
 * as `extra`). Rows are parsed on the way out: a hand-edited or half-migrated file fails loudly,
 * naming the table, instead of handing on a record of the wrong shape.
 */
export function rowCodec<S extends z.ZodObject>(
  table: string,
  schema: S,
  options: { columns?: { [K in keyof S['shape']]?: string }, omit?: ReadonlyArray<keyof S['shape']> } = {},
): RowCodec<S> {
  const fields = Object.entries(schema.shape as Record<string, z.core.$ZodType>)
    .filter(([name]) => !options.omit?.includes(name))
    .map(([name, type]) => ({
      name,
      column: (options.columns as Record<string, string | undefined> | undefined)?.[name] ?? snakeCase(name),
      storage: storageOf(type),
    }))
  const columns = Object.fromEntries(fields.map(f => [f.name, f.column]))

  function readColumn(row: Record<string, unknown>, column: string, storage: Storage): unknown {
    const value = row[column]
    if (storage === 'boolean' && typeof value === 'number') return value !== 0
    if (storage !== 'json' || typeof value !== 'string') return value
    try {
      return JSON.parse(value)
    }
    catch {
      throw new Error(`${table}: column ${column} does not hold JSON`)
    }
  }

  function toRow(value: Partial<z.input<S>>): Record<string, SqliteValue> {
    const row: Record<string, SqliteValue> = {}
    for (const { name, column, storage } of fields) {
      const field = (value as Record<string, unknown>)[name]
      if (field === undefined) continue
      row[column] = storage === 'json' && field !== null
        ? JSON.stringify(field)
        : storage === 'boolean' ? (field ? 1 : 0) : field as SqliteValue
    }
    return row
  }

  return {
    table,
    columns,
    fromRow(row, extra = {}) {
      const record = Object.fromEntries(fields.map(f => [f.name, readColumn(row, f.column, f.storage)]))
      const parsed = schema.safeParse({ ...record, ...extra })
      if (!parsed.success) throw new Error(`${table}: a row does not match its schema: ${z.prettifyError(parsed.error)}`)
      return parsed.data
    },
    toRow,
    insert(db, value, { orIgnore = false } = {}) {
      const row = toRow(schema.parse(value) as Partial<z.input<S>>)
      const names = Object.keys(row)
      prepared(db, `INSERT ${orIgnore ? 'OR IGNORE ' : ''}INTO ${table} (${names.join(', ')}) VALUES (${names.map(n => `@${n}`).join(', ')})`).run(row)
    },
    assertColumns(db) {
      const present = columnsOf(db, table)
      const missing = fields.map(f => f.column).filter(column => !present.has(column))
      if (missing.length > 0) throw new Error(`${db.name}: table ${table} lacks the column(s) ${missing.join(', ')} its schema needs`)
    },
  }
}
