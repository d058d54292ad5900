/**
 * Backup archives at the sidecar: taking one now (`POST /v1/backups`, `owlat backup`), the daily
 * scheduled one (OWLAT_BACKUP_AT), and admitting a restore (`POST /v1/restores`) as a job of kind
 * `restore`. One thing at a time: a backup is refused while a job is active, and a job while a
 * backup is being taken, since a backup pauses the services an update or restore recreates.
 */
import { randomUUID } from 'node:crypto'
import { join } from 'node:path'
import { listArchives } from '../shared/node/backups'
import { backupAtSchema, restoreRequestSchema, type BackupArchive, type BackupList, type BackupReason } from '../shared/schemas/backup'
import type { Job } from '../shared/schemas/job'
import type { Driver } from './drivers/types'
import type { Journal } from './journal'

export class BackupRefused extends Error {
  constructor(readonly status: 400 | 404 | 409, message: string) {
    super(message)
  }
}

/** OWLAT_BACKUP_AT (`HH:MM`, UTC) or null; throws naming the variable when it is malformed. */
export function backupScheduleFromEnv(env: NodeJS.ProcessEnv): string | null {
  const raw = env.OWLAT_BACKUP_AT?.trim()
  if (!raw) return null
  const parsed = backupAtSchema.safeParse(raw)
  if (!parsed.success) throw new Error(`invalid configuration: OWLAT_BACKUP_AT: ${parsed.error.issues[0]!.message}`)
  return parsed.data
}

/** The next moment after `now` at `at` (`HH:MM`, UTC). */
export function nextBackupAt(at: string, now: number): number {
  const [h, m] = at.split(':').map(Number) as [number, number]
  const day = new Date(now)
  const candidate = Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), day.getUTCDate(), h, m)
  return candidate > now ? candidate : candidate + 24 * 60 * 60 * 1000
}

export class Backups {
  private running: Promise<unknown> | null = null
  /** Job admissions in progress: a backup must not start between their check and their job. */
  private admissions = 0
  private timer: NodeJS.Timeout | null = null

  constructor(private readonly deps: { driver: Driver, journal: Journal, log: (line: string) => void, schedule: string | null }) {}

  /** Whether a backup is being taken right now (a job must wait). */
  get busy(): boolean {
    return this.running !== null
  }

  list(): BackupList {
    const { archives, capabilities } = this.deps.driver
    return {
      backups: archives ? listArchives(archives.dir) : [],
      keep: archives?.keep ?? 1,
      supported: archives !== undefined && capabilities.backups.supported,
      reason: archives ? null : capabilities.backups.reason,
      schedule: archives ? this.deps.schedule : null,
    }
  }

  /** The archive's path when `file` is one the folder lists, complete; 404 otherwise. */
  path(file: string): string {
    const archives = this.deps.driver.archives
    const found = archives ? listArchives(archives.dir).find(a => a.file === file) : undefined
    if (!archives || !found) throw new BackupRefused(404, `no backup ${file}`)
    return join(archives.dir, found.file)
  }

  async create(reason: BackupReason): Promise<{ backup: BackupArchive, pruned: string[] }> {
    const archives = this.deps.driver.archives
    if (!archives) throw new BackupRefused(400, `the ${this.deps.driver.name} driver cannot back up: ${this.deps.driver.capabilities.backups.reason ?? 'no backups'}`)
    if (this.running) throw new BackupRefused(409, 'a backup is being taken already')
    if (this.admissions > 0) throw new BackupRefused(409, 'a job is being admitted; back up once it ended')
    const active = this.deps.journal.activeJobs()[0]
    if (active) throw new BackupRefused(409, `job ${active.id} (${active.kind} to ${active.toVersion}) is still ${active.status}; back up once it ended`)
    const log = (line: string) => this.deps.log(`backup: ${line}`)
    const work = archives.create({ reason, jobId: null, log })
    this.running = work
    try {
      return await work
    }
    finally {
      this.running = null
    }
  }

  /** Runs a job admission (`POST /v1/jobs`) so that no backup starts until it is decided; 409 while a backup runs. */
  async admitting<T>(admit: () => Promise<T>): Promise<T> {
    if (this.running) throw new BackupRefused(409, 'a backup is being taken; try again once it finished')
    this.admissions++
    try {
      return await admit()
    }
    finally {
      this.admissions--
    }
  }

  /** Journals a restore job for a complete, unchanged archive of this stack; the caller submits it. */
  async admitRestore(body: unknown): Promise<Job> {
    const parsed = restoreRequestSchema.safeParse(body)
    if (!parsed.success) throw new BackupRefused(400, `invalid restore request: ${parsed.error.issues.map(i => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ')}`)
    const archives = this.deps.driver.archives
    if (!archives) throw new BackupRefused(400, `the ${this.deps.driver.name} driver cannot restore backups: ${this.deps.driver.capabilities.backups.reason ?? 'no backups'}`)
    this.refuseWhileBusy()
    let inspected
    this.admissions++
    try {
      inspected = await archives.inspect(parsed.data.file)
    }
    catch (err) {
      throw new BackupRefused(400, (err as Error).message)
    }
    finally {
      this.admissions--
    }
    // Again, with nothing awaited until the job is journaled: another request may have started one meanwhile.
    this.refuseWhileBusy()
    return this.deps.journal.createJob({
      id: randomUUID(),
      runId: null,
      kind: 'restore',
      fromVersion: this.deps.journal.installedVersion() ?? this.deps.driver.installedVersion(),
      toVersion: inspected.archive.version,
      requestedBy: parsed.data.requestedBy,
      force: false,
      compose: inspected.compose,
      backup: true,
      restoreArchive: inspected.archive.file,
    })
  }

  private refuseWhileBusy(): void {
    if (this.running) throw new BackupRefused(409, 'a backup is being taken; restore once it finished')
    const active = this.deps.journal.activeJobs()[0]
    if (active) throw new BackupRefused(409, `job ${active.id} (${active.kind} to ${active.toVersion}) is still ${active.status}`)
  }

  /** Takes the scheduled backup every day at OWLAT_BACKUP_AT (UTC); a busy moment is logged and skipped. */
  startSchedule(now = Date.now): void {
    const at = this.deps.schedule
    if (!at || !this.deps.driver.archives) return
    const arm = () => {
      const delay = nextBackupAt(at, now()) - now()
      this.timer = setTimeout(() => {
        this.create('scheduled').then(
          ({ backup }) => this.deps.log(`scheduled backup: wrote ${backup.file}`),
          (err: Error) => this.deps.log(`scheduled backup at ${at} UTC skipped: ${err.message}`),
        ).finally(arm)
      }, delay)
      this.timer.unref()
    }
    this.deps.log(`scheduled backup every day at ${at} UTC (OWLAT_BACKUP_AT), keeping ${this.deps.driver.archives.keep} (OWLAT_BACKUP_KEEP)`)
    arm()
  }

  async close(): Promise<void> {
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
    await this.running?.catch(() => {})
  }
}
