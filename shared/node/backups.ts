/**
 * The backups folder (`OWLAT_DIR/backups/`): one folder per backup holding `<volume>.tar` per
 * volume and a `manifest.json` written last, so a folder without one is incomplete. Read by the
 * compose driver (which writes them), the checks (the newest backup's size estimates the next)
 * and the CLI. Only folders with a manifest are counted or pruned, so an operator's own files in
 * the same folder are never touched. Node only.
 */
import { createHash } from 'node:crypto'
import { createReadStream, existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { z } from 'zod'
import { BACKUP_FILE_PATTERN, backupArchiveSchema, backupFileSchema, type BackupArchive, type BackupReason } from '../schemas/backup'

export const MANIFEST_FILE = 'manifest.json'

export const backupManifestSchema = z.object({
  jobId: z.string(),
  project: z.string(),
  fromVersion: z.string(),
  createdAt: z.number(),
  volumes: z.array(z.object({ volume: z.string(), file: z.string(), bytes: z.number() })),
  /** Files of the project folder kept with the data (`.env`, the compose file), for a full restore. */
  files: z.array(z.object({ name: z.string(), file: z.string() })).optional(),
})
export type BackupManifest = z.infer<typeof backupManifestSchema>

export function readBackup(dir: string): BackupManifest | null {
  const path = join(dir, MANIFEST_FILE)
  if (!existsSync(path)) return null
  let json: unknown
  try {
    json = JSON.parse(readFileSync(path, 'utf8'))
  }
  catch {
    return null
  }
  const parsed = backupManifestSchema.safeParse(json)
  return parsed.success ? parsed.data : null
}

/** Complete backups, newest first. */
export function listBackups(backupsDir: string): Array<{ dir: string, manifest: BackupManifest }> {
  if (!existsSync(backupsDir)) return []
  return readdirSync(backupsDir, { withFileTypes: true })
    .filter(entry => entry.isDirectory())
    .map((entry) => {
      const dir = join(backupsDir, entry.name)
      return { dir, manifest: readBackup(dir) }
    })
    .filter((b): b is { dir: string, manifest: BackupManifest } => b.manifest !== null)
    .sort((a, b) => b.manifest.createdAt - a.manifest.createdAt)
}

export function backupBytes(manifest: BackupManifest): number {
  return manifest.volumes.reduce((sum, v) => sum + v.bytes, 0)
}

/** Removes complete backups beyond the newest `keep`; returns the folders removed. */
export function pruneBackups(backupsDir: string, keep: number): string[] {
  const removed: string[] = []
  for (const { dir } of listBackups(backupsDir).slice(keep)) {
    rmSync(dir, { recursive: true, force: true })
    removed.push(dir)
  }
  return removed
}

/*
 * Archives (`owlat backup`): `owlat-YYYYMMDD-HHMMSS.tar.gz` with `<file>.json` beside it, written
 * last by the updater, holding its metadata and the archive's sha256. Only an archive with such
 * a record whose size and digest match counts: a restore refuses anything else, and retention
 * never touches files it did not write.
 */

const ARCHIVE_META = '.json'

/** `owlat-YYYYMMDD-HHMMSS.tar.gz` (UTC) for `at`; `-before-restore` for a restore's undo. */
export function archiveFileName(at: Date, reason: BackupReason): string {
  const p = (n: number) => String(n).padStart(2, '0')
  const stamp = `${at.getUTCFullYear()}${p(at.getUTCMonth() + 1)}${p(at.getUTCDate())}-${p(at.getUTCHours())}${p(at.getUTCMinutes())}${p(at.getUTCSeconds())}`
  return `owlat-${stamp}${reason === 'before-restore' ? '-before-restore' : ''}.tar.gz`
}

export function archiveMetaPath(backupsDir: string, file: string): string {
  return join(backupsDir, `${file}${ARCHIVE_META}`)
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256')
  await pipeline(createReadStream(path), hash)
  return hash.digest('hex')
}

/** The archive's record, when both exist and the size matches (the digest is checked by `verifyArchive`). */
export function readArchive(backupsDir: string, file: string): BackupArchive | null {
  if (!BACKUP_FILE_PATTERN.test(file)) return null
  const path = join(backupsDir, file)
  const metaPath = archiveMetaPath(backupsDir, file)
  if (!existsSync(path) || !existsSync(metaPath)) return null
  try {
    const meta = backupArchiveSchema.safeParse(JSON.parse(readFileSync(metaPath, 'utf8')))
    if (!meta.success || meta.data.file !== file || statSync(path).size !== meta.data.bytes) return null
    return meta.data
  }
  catch {
    return null
  }
}

/** Complete archives, newest first. */
export function listArchives(backupsDir: string): BackupArchive[] {
  if (!existsSync(backupsDir)) return []
  return readdirSync(backupsDir)
    .filter(name => BACKUP_FILE_PATTERN.test(name))
    .map(name => readArchive(backupsDir, name))
    .filter((a): a is BackupArchive => a !== null)
    .sort((a, b) => b.createdAt - a.createdAt || b.file.localeCompare(a.file))
}

/**
 * The path of `file` when it is a complete archive the folder lists and its bytes still hash to
 * the digest recorded when it was written; otherwise an Error saying why.
 */
export async function verifyArchive(backupsDir: string, file: string): Promise<{ path: string, archive: BackupArchive }> {
  const name = backupFileSchema.safeParse(file)
  if (!name.success) throw new Error(`${JSON.stringify(file)} is not a backup archive name (owlat-YYYYMMDD-HHMMSS.tar.gz, as owlat backup --list shows)`)
  const archive = readArchive(backupsDir, file)
  if (!archive) throw new Error(`${file} is not a complete backup in ${backupsDir} (owlat backup --list shows them)`)
  const path = join(backupsDir, file)
  const digest = await sha256File(path)
  if (digest !== archive.sha256) throw new Error(`${file} was changed after it was written (sha256 ${digest}, recorded ${archive.sha256}); refusing to restore it`)
  return { path, archive }
}

/** Removes the archives beyond the newest `keep` (OWLAT_BACKUP_KEEP); returns the files removed. */
export function pruneArchives(backupsDir: string, keep: number): string[] {
  const removed: string[] = []
  for (const archive of listArchives(backupsDir).slice(keep)) {
    rmSync(archiveMetaPath(backupsDir, archive.file), { force: true })
    rmSync(join(backupsDir, archive.file), { force: true })
    removed.push(archive.file)
  }
  return removed
}
