/**
 * Backup archives of a compose project (`owlat backup`, `owlat restore FILE`; the seed's
 * `scripts/backup.sh`): `OWLAT_DIR/backups/owlat-YYYYMMDD-HHMMSS.tar.gz` holding
 * `owlat-backup/manifest.json`, `volumes/<volume>.tar` per data volume (as the engine's archive
 * endpoint gives it, see `archiveVolumes`) and `files/` with the project's `.env`, compose file and
 * override. The record beside it (`<file>.json`, shared/node/backups.ts) is written last, with
 * the archive's sha256. The system `tar` packs and unpacks, as the bug-report bundle does.
 */
import { randomUUID } from 'node:crypto'
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type Docker from 'dockerode'
import { execa } from 'execa'
import { z } from 'zod'
import { archiveFileName, archiveMetaPath, pruneArchives, sha256File } from '../../shared/node/backups'
import type { BackupArchive, BackupReason } from '../../shared/schemas/backup'
import { OVERRIDE_FILE } from './compose-cli'
import { archiveVolumes, restoreVolume } from './docker-engine'

const TOP = 'owlat-backup'
/** The project files an archive keeps; nothing else is ever written back from one. */
export const ARCHIVED_FILES = ['.env', 'docker-compose.yml', OVERRIDE_FILE] as const
const VOLUME_NAME = /^[\w][\w.-]{0,254}$/

const innerManifestSchema = z.object({
  format: z.literal(1),
  project: z.string(),
  version: z.string(),
  createdAt: z.number(),
  volumes: z.array(z.object({ volume: z.string().regex(VOLUME_NAME), bytes: z.number() })),
  files: z.array(z.enum(ARCHIVED_FILES)),
})
export type ArchiveManifest = z.infer<typeof innerManifestSchema>

export interface CreateArchiveOptions {
  backupsDir: string
  projectDir: string
  project: string
  version: string
  image: string
  volumes: string[]
  /** Running containers that write to `volumes`: paused while they are read, so the copy is consistent. */
  pause: Array<{ id: string, service: string }>
  reason: BackupReason
  jobId: string | null
  /** Retention (OWLAT_BACKUP_KEEP); null: prune nothing (a restore's undo must not remove what it restores). */
  keep: number | null
  log: (line: string) => void
}

export async function createArchive(docker: Docker, opts: CreateArchiveOptions): Promise<{ backup: BackupArchive, pruned: string[] }> {
  mkdirSync(opts.backupsDir, { recursive: true })
  const createdAt = Date.now()
  const file = archiveFileName(new Date(createdAt), opts.reason)
  // Two backups in one second (a scheduled one and a click) must not overwrite each other.
  if (existsSync(join(opts.backupsDir, file))) throw new Error(`${file} exists already; try again in a second`)
  // On the same filesystem as the archive, so the final rename is atomic.
  const work = join(opts.backupsDir, `.partial-${randomUUID()}`)
  const top = join(work, TOP)
  mkdirSync(join(top, 'volumes'), { recursive: true })
  mkdirSync(join(top, 'files'), { recursive: true })
  try {
    const volumes = await withPaused(docker, opts.pause, opts.log, () =>
      archiveVolumes(docker, { image: opts.image, volumes: opts.volumes, dir: join(top, 'volumes'), jobId: opts.jobId ?? `backup-${createdAt}` }))
    for (const v of volumes) opts.log(`archived volume ${v.volume} (${v.bytes} bytes)`)
    const files = ARCHIVED_FILES.filter(name => existsSync(join(opts.projectDir, name)))
    for (const name of files) writeFileSync(join(top, 'files', name), readFileSync(join(opts.projectDir, name)), { mode: 0o600 })
    opts.log(`kept ${files.join(', ') || 'no project files'} from ${opts.projectDir}`)
    const manifest: ArchiveManifest = {
      format: 1,
      project: opts.project,
      version: opts.version,
      createdAt,
      volumes: volumes.map(v => ({ volume: v.volume, bytes: v.bytes })),
      files,
    }
    writeFileSync(join(top, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`)
    const partial = join(work, file)
    await execa('tar', ['-czf', partial, '-C', work, TOP])
    const target = join(opts.backupsDir, file)
    renameSync(partial, target)
    // The archive holds `.env` (secrets): readable by its owner only.
    chmodSync(target, 0o600)
    const backup: BackupArchive = {
      file,
      createdAt,
      bytes: statSync(target).size,
      version: opts.version,
      sha256: await sha256File(target),
      reason: opts.reason,
      jobId: opts.jobId,
      volumes: manifest.volumes.map(v => v.volume),
    }
    const meta = archiveMetaPath(opts.backupsDir, file)
    writeFileSync(`${meta}.tmp`, `${JSON.stringify(backup, null, 2)}\n`, { mode: 0o600 })
    renameSync(`${meta}.tmp`, meta)
    opts.log(`wrote ${target} (${backup.bytes} bytes, sha256 ${backup.sha256})`)
    const pruned = opts.keep === null ? [] : pruneArchives(opts.backupsDir, opts.keep)
    for (const removed of pruned) opts.log(`removed old backup ${removed} (keeping ${opts.keep}, OWLAT_BACKUP_KEEP)`)
    return { backup, pruned }
  }
  finally {
    rmSync(work, { recursive: true, force: true })
  }
}

/** Pauses `containers` for as long as `run` takes, and says so; they resume whatever happens. */
async function withPaused<T>(docker: Docker, containers: Array<{ id: string, service: string }>, log: (line: string) => void, run: () => Promise<T>): Promise<T> {
  const paused: typeof containers = []
  const started = Date.now()
  try {
    for (const c of containers) {
      await docker.getContainer(c.id).pause()
      paused.push(c)
    }
    if (paused.length > 0) log(`paused ${paused.map(c => c.service).join(', ')} while their volumes are copied`)
    return await run()
  }
  finally {
    for (const c of paused) await docker.getContainer(c.id).unpause().catch((err: Error) => log(`could not resume ${c.service}: ${err.message}`))
    if (paused.length > 0) log(`resumed ${paused.map(c => c.service).join(', ')} after ${((Date.now() - started) / 1000).toFixed(1)} s`)
  }
}

/** The entries an archive may hold; anything else (a path, a link, another file) refuses it. */
function allowedEntry(entry: string): boolean {
  const rel = entry.replace(/\/$/, '')
  if (rel === TOP || rel === `${TOP}/manifest.json` || rel === `${TOP}/volumes` || rel === `${TOP}/files`) return true
  const volume = /^owlat-backup\/volumes\/([^/]+)\.tar$/.exec(rel)?.[1]
  if (volume) return VOLUME_NAME.test(volume)
  const file = /^owlat-backup\/files\/([^/]+)$/.exec(rel)?.[1]
  return file !== undefined && (ARCHIVED_FILES as readonly string[]).includes(file)
}

/** What an archive holds, read without unpacking it: its manifest and its compose file. */
export async function inspectArchive(path: string): Promise<{ manifest: ArchiveManifest, compose: string }> {
  const { stdout: listing } = await execa('tar', ['-tzf', path])
  const entries = listing.split('\n').filter(Boolean)
  const bad = entries.find(e => !allowedEntry(e))
  if (bad) throw new Error(`the archive holds ${JSON.stringify(bad)}, which no owlat backup writes; refusing it`)
  const read = async (entry: string) => (await execa('tar', ['-xzOf', path, `${TOP}/${entry}`], { stripFinalNewline: false })).stdout
  let manifest: ArchiveManifest
  try {
    manifest = innerManifestSchema.parse(JSON.parse(await read('manifest.json')))
  }
  catch (err) {
    throw new Error(`the archive's manifest is unreadable: ${(err as Error).message}`, { cause: err })
  }
  for (const v of manifest.volumes) {
    if (!entries.includes(`${TOP}/volumes/${v.volume}.tar`)) throw new Error(`the archive lacks volumes/${v.volume}.tar its manifest names`)
  }
  if (!manifest.files.includes('docker-compose.yml')) throw new Error('the archive holds no compose file')
  return { manifest, compose: await read('files/docker-compose.yml') }
}

/**
 * Puts an archive back: every volume it holds (the stack using them must be stopped) and its
 * project files. Unpacked into a folder beside it first, so a broken archive changes nothing.
 */
export async function applyArchive(docker: Docker, opts: { path: string, projectDir: string, image: string, log: (line: string) => void }): Promise<ArchiveManifest> {
  const { manifest } = await inspectArchive(opts.path)
  const work = join(opts.projectDir, 'backups', `.restore-${randomUUID()}`)
  mkdirSync(work, { recursive: true })
  try {
    await execa('tar', ['-xzf', opts.path, '-C', work, '--no-same-owner'])
    for (const v of manifest.volumes) {
      await restoreVolume(docker, { image: opts.image, volume: v.volume, archive: join(work, TOP, 'volumes', `${v.volume}.tar`) })
      opts.log(`restored volume ${v.volume}`)
    }
    for (const name of manifest.files) {
      const target = join(opts.projectDir, name)
      writeFileSync(`${target}.restore-tmp`, readFileSync(join(work, TOP, 'files', name)), { mode: 0o600 })
      renameSync(`${target}.restore-tmp`, target)
    }
    // An override the archive did not have would change what the restored stack runs.
    if (!manifest.files.includes(OVERRIDE_FILE) && existsSync(join(opts.projectDir, OVERRIDE_FILE))) {
      rmSync(join(opts.projectDir, OVERRIDE_FILE))
      opts.log(`removed ${OVERRIDE_FILE}: the archive was taken without one`)
    }
    opts.log(`restored ${manifest.files.join(', ')} into ${opts.projectDir}`)
    return manifest
  }
  finally {
    rmSync(work, { recursive: true, force: true })
  }
}
