/** The one migration scheme and the schema-derived rows both SQLite files use (shared/node). */
import Database from 'better-sqlite3'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { addMissingColumns, columnsOf, migrate, type Migration } from '../../../shared/node/sqlite-migrations'
import { rowCodec } from '../../../shared/node/sqlite-rows'

let db: Database.Database
const version = () => db.pragma('user_version', { simple: true })

beforeEach(() => {
  db = new Database(':memory:')
})
afterEach(() => db.close())

describe('migrate', () => {
  const migrations: Migration[] = [
    'CREATE TABLE a (id INTEGER PRIMARY KEY)',
    addMissingColumns('a', [['name', 'TEXT'], ['size', 'INTEGER NOT NULL DEFAULT 0']]),
  ]

  it('applies each migration once, in order, counting them in user_version', () => {
    migrate(db, migrations.slice(0, 1))
    expect(version()).toBe(1)
    migrate(db, migrations)
    expect(version()).toBe(2)
    expect([...columnsOf(db, 'a')]).toEqual(['id', 'name', 'size'])
    // Nothing left to apply: running it again changes nothing (a second CREATE TABLE would throw).
    migrate(db, migrations)
    expect(version()).toBe(2)
  })

  it('rolls a failing migration back whole and keeps the version before it', () => {
    migrate(db, migrations)
    const broken = [...migrations, 'CREATE TABLE b (id INTEGER); INSERT INTO missing VALUES (1)']
    expect(() => migrate(db, broken)).toThrow(/no such table: missing/)
    expect(version()).toBe(2)
    expect(columnsOf(db, 'b').size).toBe(0)
  })

  it('leaves a file from a newer program as it is', () => {
    migrate(db, migrations)
    db.pragma('user_version = 7')
    migrate(db, migrations)
    expect(version()).toBe(7)
  })

  it('adds only the columns a table lacks (files from before their migrations were counted)', () => {
    db.exec('CREATE TABLE a (id INTEGER PRIMARY KEY, size INTEGER)')
    migrate(db, [migrations[1]!])
    expect([...columnsOf(db, 'a')]).toEqual(['id', 'size', 'name'])
  })
})

describe('rowCodec', () => {
  const thing = z.object({
    id: z.string(),
    ownerEmail: z.string().nullable(),
    tags: z.array(z.string()),
    meta: z.object({ kind: z.enum(['a', 'b']) }).nullable().optional(),
    enabled: z.boolean(),
    count: z.number(),
  })
  const rows = rowCodec('things', thing, { columns: { meta: 'meta_json' }, omit: ['count'] })

  beforeEach(() => {
    db.exec('CREATE TABLE things (seq INTEGER PRIMARY KEY, id TEXT, owner_email TEXT, tags TEXT, meta_json TEXT, enabled INTEGER)')
  })

  it('maps fields to snake_case columns, objects and arrays to JSON, booleans to 0/1', () => {
    expect(rows.columns).toEqual({ id: 'id', ownerEmail: 'owner_email', tags: 'tags', meta: 'meta_json', enabled: 'enabled' })
    rows.insert(db, { id: 't1', ownerEmail: null, tags: ['x'], meta: { kind: 'a' }, enabled: true, count: 3 })
    const raw = db.prepare('SELECT * FROM things').get()
    expect(raw).toEqual({ seq: 1, id: 't1', owner_email: null, tags: '["x"]', meta_json: '{"kind":"a"}', enabled: 1 })
    expect(rows.fromRow(raw as Record<string, unknown>, { count: 3 }))
      .toEqual({ id: 't1', ownerEmail: null, tags: ['x'], meta: { kind: 'a' }, enabled: true, count: 3 })
  })

  it('refuses to write a record the schema refuses', () => {
    expect(() => rows.insert(db, { id: 't1', ownerEmail: null, tags: 'x' as unknown as string[], enabled: true, count: 1 })).toThrow()
    expect(db.prepare('SELECT COUNT(*) AS n FROM things').get()).toEqual({ n: 0 })
  })

  it('refuses a row of the wrong shape, naming the table and the field', () => {
    db.exec(`INSERT INTO things (id, owner_email, tags, meta_json, enabled) VALUES ('t1', NULL, '[]', '{"kind":"c"}', 0)`)
    const row = db.prepare('SELECT * FROM things').get() as Record<string, unknown>
    expect(() => rows.fromRow(row, { count: 1 })).toThrow(/^things: a row does not match its schema:[\s\S]*meta\.kind/)
    db.exec(`UPDATE things SET tags = 'not json'`)
    expect(() => rows.fromRow(db.prepare('SELECT * FROM things').get() as Record<string, unknown>, { count: 1 }))
      .toThrow('things: column tags does not hold JSON')
  })

  it('checks a table has a column for every field', () => {
    expect(() => rows.assertColumns(db)).not.toThrow()
    const other = rowCodec('things', thing.extend({ createdAt: z.number() }), { omit: ['count'] })
    expect(() => other.assertColumns(db)).toThrow(/table things lacks the column\(s\) meta, created_at its schema needs/)
  })
})
