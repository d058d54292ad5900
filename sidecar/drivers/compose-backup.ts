/**
 * Backups of the stack's named volumes before an update: one folder per job under
 * `OWLAT_DIR/backups/<jobId>/` holding `<volume>.tar` per volume and a `manifest.json`. Only
 * folders with such a manifest count (shared/node/backups.ts reads, lists and prunes them).
 */
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type Docker from 'dockerode'
import { MANIFEST_FILE, readBackup, type BackupManifest } from '../../shared/node/backups'
import { archiveVolumes, restoreVolume } from './docker-engine'

export { listBackups, pruneBackups, readBackup, type BackupManifest } from '../../shared/node/backups'

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

/**
 * Puts the volumes of a backup back, every one or those `include` picks (the stack using them
 * must be stopped); `into` names the volume each goes into (itself, or a rehearsal's copy).
 */
export async function restoreBackup(docker: Docker, dir: string, image: string, include: (volume: string) => boolean = () => true, into: (volume: string) => string = v => v): Promise<BackupManifest> {
  const manifest = readBackup(dir)
  if (!manifest) throw new Error(`${dir} is not a complete backup (no ${MANIFEST_FILE})`)
  for (const entry of manifest.volumes.filter(v => include(v.volume))) {
    await restoreVolume(docker, { image, volume: into(entry.volume), from: entry.volume, archive: join(dir, entry.file) })
  }
  return manifest
}
