/**
 * Backups of the stack's named volumes before an update: one folder per job under
 * `OWLAT_DIR/backups/<jobId>/` holding `<volume>.tar` per volume and a `manifest.json`. Only
 * folders with such a manifest are counted (and pruned beyond `keep`), so an operator's own
 * archives in the same folder are never touched.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type Docker from 'dockerode'
import { z } from 'zod'
import { archiveVolumes, restoreVolume } from './docker-engine'

export const MANIFEST_FILE = 'manifest.json'

const manifestSchema = z.object({
  jobId: z.string(),
  project: z.string(),
  fromVersion: z.string(),
  createdAt: z.number(),
  volumes: z.array(z.object({ volume: z.string(), file: z.string(), bytes: z.number() })),
})
export type BackupManifest = z.infer<typeof manifestSchema>

export interface BackupOptions {
  backupsDir: string
  jobId: string
  project: string
  fromVersion: string
  image: string
  volumes: string[]
}

export async function backupVolumes(docker: Docker, opts: BackupOptions): Promise<BackupManifest> {
  const dir = join(opts.backupsDir, opts.jobId)
  // A resumed or repeated backup starts over: half an archive is worse than none.
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(dir, { recursive: true })
  const archived = await archiveVolumes(docker, { image: opts.image, volumes: opts.volumes, dir, jobId: opts.jobId })
  const manifest: BackupManifest = {
    jobId: opts.jobId,
    project: opts.project,
    fromVersion: opts.fromVersion,
    createdAt: Date.now(),
    volumes: archived.map(a => ({ volume: a.volume, file: `${a.volume}.tar`, bytes: a.bytes })),
  }
  // Written last and atomically: a folder without a manifest is an incomplete backup.
  writeFileSync(join(dir, `${MANIFEST_FILE}.tmp`), `${JSON.stringify(manifest, null, 2)}\n`)
  renameSync(join(dir, `${MANIFEST_FILE}.tmp`), join(dir, MANIFEST_FILE))
  return manifest
}

export function readBackup(dir: string): BackupManifest | null {
  const path = join(dir, MANIFEST_FILE)
  if (!existsSync(path)) return null
  const parsed = manifestSchema.safeParse(JSON.parse(readFileSync(path, 'utf8')))
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

/** Removes complete backups beyond the newest `keep`; returns the folders removed. */
export function pruneBackups(backupsDir: string, keep: number): string[] {
  const removed: string[] = []
  for (const { dir } of listBackups(backupsDir).slice(keep)) {
    rmSync(dir, { recursive: true, force: true })
    removed.push(dir)
  }
  return removed
}

/** Puts the volumes of a backup back, every one or those `include` picks (the stack using them must be stopped). */
export async function restoreBackup(docker: Docker, dir: string, image: string, include: (volume: string) => boolean = () => true): Promise<BackupManifest> {
  const manifest = readBackup(dir)
  if (!manifest) throw new Error(`${dir} is not a complete backup (no ${MANIFEST_FILE})`)
  for (const entry of manifest.volumes.filter(v => include(v.volume))) {
    await restoreVolume(docker, { image, volume: entry.volume, archive: join(dir, entry.file) })
  }
  return manifest
}
