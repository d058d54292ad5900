/**
 * The data dir holds the instance secret, the release signing key, password hashes and the job
 * journal: owner only, whatever the umask. Folders 0700, files 0600. Node only.
 */
import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs'
import { dirname } from 'node:path'

export const PRIVATE_DIR_MODE = 0o700
export const PRIVATE_FILE_MODE = 0o600

function tighten(path: string, mode: number): void {
  try {
    chmodSync(path, mode)
  }
  catch (err) {
    // A folder someone else owns (a mounted volume) stays as it is; its owner decides.
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') throw err
  }
}

/** Creates the folder (and missing parents) 0700, and tightens it when it already exists. */
export function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE })
  tighten(dir, PRIVATE_DIR_MODE)
}

/** Creates the file empty when missing, 0600 either way, in a private folder. */
export function ensurePrivateFile(path: string): void {
  ensurePrivateDir(dirname(path))
  closeSync(openSync(path, 'a', PRIVATE_FILE_MODE))
  tighten(path, PRIVATE_FILE_MODE)
}

/**
 * A SQLite file made before SQLite opens it: SQLite creates a new database 0644 whatever the
 * umask, and gives its -wal and -shm files the database's own mode. Older files are tightened.
 */
export function preparePrivateDatabase(path: string): void {
  ensurePrivateFile(path)
  for (const side of [`${path}-wal`, `${path}-shm`, `${path}-journal`]) {
    if (existsSync(side)) tighten(side, PRIVATE_FILE_MODE)
  }
}
