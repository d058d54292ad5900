/**
 * The backups folder (`OWLAT_DIR/backups/`): one folder per backup holding `<volume>.tar` per
 * volume and a `manifest.json` written last, so a folder without one is incomplete. Read by the
 * compose driver (which writes them), the checks (the newest backup's size estimates the next)
 * and the CLI. Only folders with a manifest are counted or pruned, so an operator's own files in
 * the same folder are never touched. Node only.
 */
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { z } from 'zod'

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
