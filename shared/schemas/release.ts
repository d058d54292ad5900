import { z } from 'zod'
import { channelSchema, severitySchema, versionSchema } from './common'

const sha256Schema = z.string().regex(/^[a-f0-9]{64}$/, 'must be a lowercase hex sha256')

/** `release-V.json`: the signed manifest of one release (DESIGN.md, release artifacts). */
export const releaseManifestSchema = z.object({
  version: versionSchema,
  channel: channelSchema,
  publishedAt: z.iso.datetime({ offset: true }),
  severity: severitySchema,
  compose: z.object({
    file: z.string().min(1),
    sha256: sha256Schema,
  }),
  images: z.array(z.object({
    service: z.string().min(1),
    image: z.string().min(1),
  })),
  migrations: z.object({
    migratesData: z.boolean(),
    /** Oldest version this release can roll back to once it has migrated data. */
    rollbackFloor: versionSchema.nullable(),
  }),
  /**
   * A required upgrade stop: the release installs only over this version or a newer one, so an
   * older instance goes through the newest release that satisfies it first (shared/upgrade-path.ts).
   * Absent: it installs over anything older.
   */
  minimumFrom: versionSchema.optional(),
  /**
   * What the host must run for this release, each the oldest version that will do: the updater
   * itself, the container engine and compose. The plan's checks compare them (shared/node/checks).
   */
  requires: z.object({
    updater: versionSchema.optional(),
    engine: versionSchema.optional(),
    compose: versionSchema.optional(),
  }).strict().optional(),
  notes: z.string().max(100_000),
})
export type ReleaseManifest = z.infer<typeof releaseManifestSchema>

/** A release as the web lists it: normalised from any source, with its verification result. */
export const releaseSchema = z.object({
  version: versionSchema,
  channel: channelSchema,
  publishedAt: z.string(),
  severity: severitySchema,
  notes: z.string(),
  /** Notes rendered from markdown and sanitised on the server. */
  notesHtml: z.string(),
  migratesData: z.boolean(),
  rollbackFloor: z.string().nullable(),
  /** The manifest's `minimumFrom`; absent from releases cached before the field existed. */
  minimumFrom: z.string().nullable().optional(),
  verified: z.boolean(),
  /** Why verification failed; null when verified. */
  verifyError: z.string().nullable(),
})
export type Release = z.infer<typeof releaseSchema>

export const releasesResponseSchema = z.object({
  releases: z.array(releaseSchema),
  checkedAt: z.number().nullable(),
  error: z.string().nullable(),
  /** When the source will be asked next (the scheduled slot or the end of a rate limit). */
  nextCheckAt: z.number().nullable(),
})
export type ReleasesResponse = z.infer<typeof releasesResponseSchema>

/** The last good list from the release source, as the stores keep it. */
export const releaseCacheSchema = releasesResponseSchema.pick({ releases: true, checkedAt: true, error: true })
export type ReleaseCache = z.infer<typeof releaseCacheSchema>

/** `GET /api/system/releases/pending`: the releases an update to the newest one would jump over. */
export const pendingReleasesSchema = z.object({
  currentVersion: z.string(),
  /** The newest applicable (verified) release; null when there is no update. */
  target: z.string().nullable(),
  /** Newer than the running version up to the target, newest first. */
  releases: z.array(releaseSchema),
  /** Whether any of them migrates data. */
  migratesData: z.boolean(),
})
export type PendingReleases = z.infer<typeof pendingReleasesSchema>
