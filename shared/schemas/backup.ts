/**
 * Backup archives (`owlat backup`, `owlat restore FILE`, the page's list): what crosses the
 * sidecar's, the web's and the CLI's boundaries. One archive is
 * `OWLAT_DIR/backups/owlat-YYYYMMDD-HHMMSS.tar.gz` with the data volumes, the project's `.env`
 * and compose file; the one taken before a restore (its undo) ends in `-before-restore`.
 */
import { z } from 'zod'
import { requestedBySchema } from './common'

/** Only names this pattern allows are ever joined to the backups folder: no path can pass. */
export const BACKUP_FILE_PATTERN = /^owlat-\d{8}-\d{6}(?:-before-restore)?\.tar\.gz$/

export const backupFileSchema = z.string().regex(BACKUP_FILE_PATTERN, 'not a backup archive name (owlat-YYYYMMDD-HHMMSS.tar.gz)')

export const BACKUP_REASONS = ['manual', 'scheduled', 'before-restore'] as const
export type BackupReason = (typeof BACKUP_REASONS)[number]

export const backupArchiveSchema = z.object({
  file: backupFileSchema,
  createdAt: z.number(),
  bytes: z.number().int().min(0),
  /** The web version the stack ran when it was taken: the version a restore brings back. */
  version: z.string(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  reason: z.enum(BACKUP_REASONS),
  /** The restore job whose undo this is (`before-restore` only). */
  jobId: z.string().nullable(),
  volumes: z.array(z.string()),
})
export type BackupArchive = z.infer<typeof backupArchiveSchema>

/** `GET /v1/backups` (and the web's `GET /api/system/backups`). */
export const backupListSchema = z.object({
  backups: z.array(backupArchiveSchema),
  /** `OWLAT_BACKUP_KEEP`: how many archives are kept, the oldest pruned after a new one. */
  keep: z.number().int().min(1),
  /** Whether this updater's driver can back up, and why not. */
  supported: z.boolean(),
  reason: z.string().nullable(),
  /** `OWLAT_BACKUP_AT` (`HH:MM`, UTC): the daily scheduled backup, or null when none is set. */
  schedule: z.string().nullable(),
})
export type BackupList = z.infer<typeof backupListSchema>

/** `POST /v1/backups` → `201 {backup}` */
export const backupCreatedSchema = z.object({ backup: backupArchiveSchema, pruned: z.array(z.string()) })

/** `POST /v1/restores` → `202 {jobId}` */
export const restoreRequestSchema = z.object({
  file: backupFileSchema,
  requestedBy: requestedBySchema,
})
export type RestoreRequest = z.input<typeof restoreRequestSchema>

/** `OWLAT_BACKUP_AT`: a daily time, `HH:MM` in UTC. */
export const backupAtSchema = z.string().regex(/^(?:[01]\d|2[0-3]):[0-5]\d$/, 'must be HH:MM (UTC), e.g. 03:30')
