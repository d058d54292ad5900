/** The SQLite store: the shared contract, plus what only a file on disk has. */
import { closeSync, mkdtempSync, openSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { openSqliteStore } from '../../server/utils/store/sqlite'
import type { SystemStore } from '../../server/utils/store/types'
import { cliJob, describeStoreContract, newRun, release } from './store-contract'

describeStoreContract('sqlite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'owlat-store-'))
  const file = join(dir, 'web.sqlite')
  const store = openSqliteStore(file)
  // Each `other()` is a second connection to the same file, as a second process would have.
  const others: SystemStore[] = []
  return {
    store,
    other: () => {
      const other = openSqliteStore(file)
      others.push(other)
      return other
    },
    cleanup: async () => {
      for (const other of others) await other.close()
      await store.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
})

describe('sqlite store file', () => {
  let dir: string
  let file: string
  let store: SystemStore

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'owlat-store-'))
    file = join(dir, 'web.sqlite')
    store = openSqliteStore(file)
  })

  afterEach(async () => {
    await store.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('keeps everything across reopening the file', async () => {
    const run = await store.openRun(newRun)
    const adopted = await store.adoptJob({ ...cliJob, status: 'succeeded' })
    await store.dismiss({ userId: 'u1', email: 'u1@example.com' }, '1.3.0')
    await store.saveReleaseCache({ releases: [release], checkedAt: 10, error: 'e' })
    await store.updateSettings({ channel: 'beta' })
    await store.close()
    store = openSqliteStore(file)
    expect((await store.getActiveRun())?.id).toBe(run.id)
    expect(await store.getRunByJobId(cliJob.id)).toEqual(adopted)
    expect(await store.isDismissed('u1', '1.3.0')).toBe(true)
    expect(await store.getReleaseCache()).toEqual({ releases: [release], checkedAt: 10, error: 'e' })
    expect(await store.getSettings()).toMatchObject({ channel: 'beta' })
  })

  it('reads the release trust again after its own write and after another connection commits (it keeps it between)', async () => {
    const other = openSqliteStore(file)
    try {
      expect((await store.getReleaseTrust()).highestSerial).toBeNull()
      expect(await other.saveReleaseTrust({ highestSerial: 3 })).toBe(true)
      expect((await store.getReleaseTrust()).highestSerial).toBe(3)
      expect(await store.saveReleaseTrust({ highestSerial: 5 })).toBe(true)
      expect((await store.getReleaseTrust()).highestSerial).toBe(5)
      expect((await other.getReleaseTrust()).highestSerial).toBe(5)
      // A commit to any other table by another connection is a reason to read again, not a change.
      await other.updateSettings({ channel: 'beta' })
      expect((await store.getReleaseTrust()).highestSerial).toBe(5)
    }
    finally {
      await other.close()
    }
  })

  it('reads rows through the shared run schema: a row of the wrong shape is refused, not handed on', async () => {
    const run = await store.openRun(newRun)
    const raw = new Database(file)
    raw.prepare(`UPDATE runs SET kind = 'sidegrade', steps = '[{"name":"pull"}]' WHERE id = ?`).run(run.id)
    raw.close()
    await expect(store.getRun(run.id)).rejects.toThrow(/^runs: a row does not match its schema:[\s\S]*kind[\s\S]*steps\[0\]\.status/)
    await expect(store.listRuns(10)).rejects.toThrow(/runs: a row does not match its schema/)
  })

  it('refuses a file whose tables lack a column the shared schemas need', async () => {
    await store.close()
    const raw = new Database(file)
    raw.exec('ALTER TABLE run_acknowledgements DROP COLUMN email')
    raw.close()
    expect(() => openSqliteStore(file)).toThrow(/table run_acknowledgements lacks the column\(s\) email/)
    store = openSqliteStore(join(dir, 'fresh.sqlite'))
  })

  it('refuses a file that is not a database at open, naming it', async () => {
    await store.close()
    writeFileSync(file, 'this is not a database, it only has its name '.repeat(200))
    expect(() => openSqliteStore(file)).toThrow(`the web store ${file} is unreadable: file is not a database (restore it from a backup, or move it aside to start with an empty one)`)
    store = openSqliteStore(join(dir, 'fresh.sqlite'))
  })

  it('refuses a file with a damaged page at open, naming it, and check() reads a healthy one', async () => {
    await expect(store.check!()).resolves.toBeUndefined()
    for (let i = 0; i < 40; i++) await store.createUser({ email: `user${i}@example.com`, role: 'member', passwordHash: 'x'.repeat(400) })
    await store.close()
    // Fold the WAL into the file, then overwrite the middle of the users table's pages.
    const raw = new Database(file)
    raw.pragma('wal_checkpoint(TRUNCATE)')
    const pageSize = raw.pragma('page_size', { simple: true }) as number
    const usersRoot = (raw.prepare(`SELECT rootpage FROM sqlite_master WHERE name = 'users'`).get() as { rootpage: number }).rootpage
    raw.close()
    const fd = openSync(file, 'r+')
    writeSync(fd, Buffer.alloc(pageSize / 2, 0xff), 0, pageSize / 2, (usersRoot - 1) * pageSize + 8)
    closeSync(fd)
    expect(() => openSqliteStore(file)).toThrow(new RegExp(`^the web store ${file.replace(/[/.]/g, '\\$&')} is unreadable: `))
    store = openSqliteStore(join(dir, 'fresh.sqlite'))
  })

  it('keeps the file, its WAL and its folder owner-only, whatever the umask', async () => {
    await store.close()
    const previous = process.umask(0)
    try {
      const fresh = join(dir, 'private', 'web.sqlite')
      store = openSqliteStore(fresh)
      await store.dismiss({ userId: 'u1', email: 'u1@example.com' }, '1.3.0')
      expect(statSync(join(dir, 'private')).mode & 0o777).toBe(0o700)
      for (const path of [fresh, `${fresh}-wal`, `${fresh}-shm`]) expect(statSync(path).mode & 0o777, path).toBe(0o600)
    }
    finally {
      process.umask(previous)
    }
  })

  it('counts its migrations in user_version (shared/node/sqlite-migrations.ts)', () => {
    const raw = new Database(file, { readonly: true })
    expect(raw.pragma('user_version', { simple: true })).toBe(10)
    raw.close()
  })
})
