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
  /** sha256 of the signed manifest bytes, what the release index lists; absent in older caches. */
  manifestSha256: sha256Schema.optional(),
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

/**
 * `releases-index.json`: per publication, every release's manifest sha256, the revoked ones with
 * why, a rising `serial` and an expiry, signed like the manifests (`releases-index.json.sig`).
 * What defends against a frozen or replayed list, mixed-and-matched artifacts, and a key that
 * must be replaced (`nextKeys`: keys announced by the current one, trusted once seen).
 */
export const releaseIndexSchema = z.object({
  serial: z.number().int().positive(),
  issuedAt: z.iso.datetime({ offset: true }),
  expiresAt: z.iso.datetime({ offset: true }),
  releases: z.array(z.object({
    version: versionSchema,
    manifestSha256: sha256Schema,
    channel: channelSchema,
    severity: severitySchema,
  })).max(10_000),
  revoked: z.array(z.object({
    version: versionSchema,
    reason: z.string().min(1).max(2_000),
    /** The version to move to instead; null when the index names none. */
    moveTo: versionSchema.nullable().default(null),
  })).max(10_000).default([]),
  /** PEM (SPKI) Ed25519 keys the signer announces as trusted from now on (key rotation). */
  nextKeys: z.array(z.string().min(1).max(4_096)).max(8).default([]),
  /** Keys no longer trusted, configured or learned (a leaked key); never the one that signs this index. */
  retiredKeys: z.array(z.string().min(1).max(4_096)).max(64).default([]),
})
export type ReleaseIndex = z.infer<typeof releaseIndexSchema>

/**
 * What this instance has learned from release indexes, kept in its store: the ratchet (the
 * highest serial and version seen), the newest accepted index as signed, keys learned or retired
 * by rotation, and the last refused replay (shown as a security warning).
 */
export const releaseTrustSchema = z.object({
  highestSerial: z.number().int().nullable(),
  highestVersion: z.string().nullable(),
  /** The newest accepted index: its exact text and signature (judged again at every use). */
  indexText: z.string().nullable(),
  indexSignature: z.string().nullable(),
  learnedKeys: z.array(z.string()),
  retiredKeys: z.array(z.string()),
  /** The last index refused for a lower serial: a rollback attack. */
  rollbackRefusal: z.object({
    at: z.number(),
    serial: z.number(),
    highestSerial: z.number(),
    where: z.string(),
  }).nullable(),
})
export type ReleaseTrust = z.infer<typeof releaseTrustSchema>

export const EMPTY_RELEASE_TRUST: ReleaseTrust = {
  highestSerial: null, highestVersion: null, indexText: null, indexSignature: null, learnedKeys: [], retiredKeys: [], rollbackRefusal: null,
}
