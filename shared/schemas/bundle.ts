import { z } from 'zod'
import { versionSchema } from './common'

/**
 * What the updater answers to `POST /v1/bundles` once an offline release bundle is verified,
 * its images loaded and its release kept: the release's files as a release folder holds them
 * (the web and the CLI keep them in theirs), and the images it loaded.
 */
export const bundleImportSchema = z.object({
  version: versionSchema,
  /** File name → exact text: the manifest, its signature, the compose file, its sha256, the signed index. */
  files: z.record(z.string().regex(/^[\w.-]+$/), z.string().max(4 * 1024 * 1024)),
  images: z.array(z.string()),
  /** The bundle's index is past its expiry: an update on it needs the freshness check overridden. */
  indexExpired: z.boolean(),
})
export type BundleImportResult = z.infer<typeof bundleImportSchema>

/** What the page's upload answers: the import, and whether the web lists the release now. */
export const bundleUploadSchema = bundleImportSchema.pick({ version: true, images: true, indexExpired: true }).extend({
  /** Where the web keeps it (its release folder). */
  releaseDir: z.string(),
})
export type BundleUploadResult = z.infer<typeof bundleUploadSchema>
