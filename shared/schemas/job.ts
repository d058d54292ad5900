import { z } from 'zod'
import { serviceLogEntrySchema } from '../service-output'
import { channelSchema, checkOverrideSchema, driverNameSchema, MAX_HOPS, REHEARSAL_OVERRIDE_REFUSED, requestedBySchema, runCoreSchema, versionSchema } from './common'

/** The largest compose file a job or `POST /v1/checks` carries (a release's is a few KB). */
export const MAX_COMPOSE_CHARS = 1_000_000

/** A release manifest as signed: its exact bytes (base64) and the signature over them. */
export const signedManifestSchema = z.object({
  manifest: z.string().min(1).max(1_000_000),
  signature: z.string().min(1).max(1_000),
})
export type SignedManifest = z.infer<typeof signedManifestSchema>

/** A release as a job carries it: its signed manifest and its `docker-compose-V.yml` text. */
export const signedReleaseSchema = signedManifestSchema.extend({
  compose: z.string().min(1).max(MAX_COMPOSE_CHARS),
})
export type SignedRelease = z.infer<typeof signedReleaseSchema>

/**
 * The signed release index a job's release is judged by (shared/release-index.ts): its exact
 * text and the signature over it. The updater checks it against its own trusted keys and ratchet.
 */
export const signedIndexSchema = z.object({
  text: z.string().min(1).max(1_000_000),
  signature: z.string().min(1).max(1_000),
})
export type SignedIndexBody = z.infer<typeof signedIndexSchema>

/**
 * `POST /v1/jobs` body (web or CLI → sidecar). The release artifacts travel with the job so
 * the sidecar verifies them itself (signature against its pinned key, compose sha256), and
 * judges the target by the shared rules (shared/targets.ts).
 */
export const jobRequestSchema = z.object({
  runId: z.string().min(1).max(100).nullable(),
  // A restore comes through `POST /v1/restores`, with an archive instead of a release.
  kind: z.enum(['update', 'rollback', 'rehearsal']),
  targetVersion: versionSchema,
  /** Exact bytes of `release-V.json`, base64. */
  manifest: z.string().min(1).max(1_000_000),
  /** `release-V.json.sig`: base64 Ed25519 signature of the manifest bytes. */
  signature: z.string().min(1).max(1_000),
  /** `docker-compose-V.yml` text. */
  compose: z.string().min(1).max(MAX_COMPOSE_CHARS),
  requestedBy: requestedBySchema,
  /** Proceed even when the stack is not healthy before the update. */
  force: z.boolean().default(false),
  /** Back up the data before anything changes (drivers that cannot back up skip the step). */
  backup: z.boolean().default(true),
  /** A rollback that also puts back the data backup taken by this earlier job. */
  restoreBackupJobId: z.string().min(1).max(100).nullable().default(null),
  /** The update channel the requester follows: pre-releases only on `beta`. */
  channel: channelSchema.default('stable'),
  /** Install the target even though it failed on this instance before ("try again anyway"). */
  retryFailed: z.boolean().default(false),
  /**
   * For a rollback: the signed manifests of the running release and of the releases it undoes
   * that migrated data, so their rollback floors are checked. The sidecar also keeps every
   * release it installed; these add what it cannot know (a release installed before it).
   */
  releases: z.array(signedManifestSchema).max(100).default([]),
  /**
   * The required upgrade stops between the running version and the target, in the order they
   * install (shared/upgrade-path.ts), each with its signed artifacts: the updater verifies each
   * as it does the target and runs one hop per version. Empty when the target installs directly.
   */
  stops: z.array(signedReleaseSchema).max(MAX_HOPS - 1).default([]),
  /** The admin ignored these failing checks for this reason: the updater's preflight lets them pass and says so. */
  override: checkOverrideSchema.nullable().default(null),
  /**
   * The newest signed release index the client accepted: the updater installs only a manifest it
   * lists, with the same sha256, and does not revoke, and keeps its own ratchet of serials.
   */
  index: signedIndexSchema,
}).refine(request => request.kind !== 'rehearsal' || request.override === null, { path: ['override'], message: REHEARSAL_OVERRIDE_REFUSED })
export type JobRequest = z.input<typeof jobRequestSchema>

export const jobBackupSchema = z.object({
  path: z.string(),
  createdAt: z.number(),
  sizeBytes: z.number(),
})
export type JobBackup = z.infer<typeof jobBackupSchema>

/** Whether a driver can back up and restore data, and why not when it cannot. */
export const driverBackupsSchema = z.object({
  supported: z.boolean(),
  reason: z.string().nullable(),
})
export type DriverBackups = z.infer<typeof driverBackupsSchema>

export const jobSchema = runCoreSchema.extend({
  runId: z.string().nullable(),
  createdAt: z.number(),
  startedAt: z.number().nullable(),
  /** The data backup this job took in its backup step; null when it took none. */
  backup: jobBackupSchema.nullable().optional(),
})
export type Job = z.infer<typeof jobSchema>

export const jobAcceptedSchema = z.object({ jobId: z.string() })
export const jobListSchema = z.object({ jobs: z.array(jobSchema) })

/** Events on `GET /v1/jobs/:id/events` (SSE `data:` payloads). */
export const jobEventSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('job'), job: jobSchema }),
  z.object({ type: z.literal('log'), step: z.string(), line: z.string(), /** The step's hop in a run of several. */ hop: z.number().int().min(0).optional() }),
])
export type JobEvent = z.infer<typeof jobEventSchema>

export const serviceHealthSchema = z.object({
  name: z.string(),
  image: z.string(),
  version: z.string().nullable(),
  state: z.string(),
  health: z.enum(['healthy', 'unhealthy', 'starting', 'none']),
})
export type ServiceHealth = z.infer<typeof serviceHealthSchema>

/** Free space where the updater writes images and backups, and what an update needs there. */
export const diskFactsSchema = z.object({
  path: z.string(),
  freeBytes: z.number(),
  totalBytes: z.number(),
  /** The new images and the backup (estimated from the running images and the newest backup), at least the configured minimum. */
  needBytes: z.number(),
  /** What a rehearsal's copy of the data takes on top (absent from an updater that cannot say). */
  copyBytes: z.number().optional(),
})
export type DiskFacts = z.infer<typeof diskFactsSchema>

/** What the updater reports of itself and its host, for the plan's checks (shared/node/checks/plan.ts). */
export const hostFactsSchema = z.object({
  /** The updater's own version. */
  updater: z.string(),
  /** The container engine's version; null where the driver runs none (the local driver). */
  engine: z.string().nullable(),
  /** The compose CLI's version; null where the driver runs none. */
  compose: z.string().nullable(),
  disk: diskFactsSchema.nullable(),
})
export type HostFacts = z.infer<typeof hostFactsSchema>

/** `GET /v1/health` */
export const sidecarHealthSchema = z.object({
  version: z.string(),
  driver: driverNameSchema,
  services: z.array(serviceHealthSchema),
  /** Absent from updaters older than this field: they cannot be asked to restore data. */
  backups: driverBackupsSchema.default({ supported: false, reason: 'the updater does not report backup support' }),
  /** Whether its driver can rehearse a release on a copy of the data. Absent from updaters older than this field: all of them could. */
  rehearsals: driverBackupsSchema.default({ supported: true, reason: null }),
  /** Absent from updaters older than this field (the plan's `updater` check says so). */
  host: hostFactsSchema.nullable().default(null),
  /** The highest release index serial the updater accepted (its ratchet); null: none yet, or an older updater. */
  indexSerial: z.number().int().nullable().default(null),
})
export type SidecarHealth = z.infer<typeof sidecarHealthSchema>

/** One check's outcome, the same shape wherever checks run (shared/node/checks/types.ts). */
export const checkSchema = z.object({
  /** Stable id, e.g. `convex-data-volume`. */
  id: z.string(),
  status: z.enum(['ok', 'warn', 'fail', 'skip']),
  /** One line: what was found, with the figure when there is one. */
  message: z.string(),
  /** What to do about it; null when nothing needs doing. */
  fix: z.string().nullable(),
  /** A `fail` of a blocking check refuses the update. */
  blocking: z.boolean(),
})
export type Check = z.infer<typeof checkSchema>

/** `POST /v1/checks`: the stack checks on the compose file a release would run. */
export const stackChecksRequestSchema = z.object({ compose: z.string().min(1).max(MAX_COMPOSE_CHARS) })

/** Its answer: the checks, or null from a driver that runs no stack checks (the local driver). */
export const stackChecksSchema = z.object({ checks: z.array(checkSchema).nullable() })

/**
 * `GET /v1/services/:name/logs?tail=N`: the newest lines a service wrote (for `owlat logs SERVICE`);
 * `entries` has each with its time and the version that wrote it (absent from older updaters).
 */
export const serviceLogsSchema = z.object({ lines: z.array(z.string()), entries: z.array(serviceLogEntrySchema).optional() })
