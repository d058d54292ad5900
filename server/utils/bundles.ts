/**
 * Offline release bundles uploaded on the page (air-gapped installs): whether this instance takes
 * them and how large, where an upload waits while the updater judges it, and what the updater's
 * answer means to the page. Framework-independent but for `createError`.
 */
import { join } from 'node:path'
import { createError } from 'h3'
import type { OwlatConfig } from '../../shared/config'
import { formatBytes } from '../../shared/format-bytes'
import type { SystemStatus } from '../../shared/schemas/api'
import { SidecarRejectedError, SidecarUnreachableError } from './sidecar'

/** Why an upload is refused when releases come from elsewhere than a folder the web can add to. */
export const BUNDLE_SOURCE_REFUSAL = 'offline bundles need the directory release source (OWLAT_RELEASE_SOURCE=directory)'

/** What the status tells the page about uploads. */
export function bundleUploadInfo(config: Pick<OwlatConfig, 'bundleMaxBytes' | 'releaseSource'>): NonNullable<SystemStatus['bundleUpload']> {
  return { maxBytes: config.bundleMaxBytes, refusal: config.releaseSource === 'directory' ? null : BUNDLE_SOURCE_REFUSAL }
}

/** Uploads on their way to the updater (0700; each file is removed once answered). */
export function bundleUploadDir(config: Pick<OwlatConfig, 'dataDir'>): string {
  return join(config.dataDir, 'bundle-uploads')
}

export function bundleTooLarge(declared: number, limit: number) {
  return createError({
    statusCode: 413,
    statusMessage: 'Payload Too Large',
    message: `The bundle is ${formatBytes(declared)}, larger than the limit of ${formatBytes(limit)} (OWLAT_BUNDLE_MAX_BYTES)`,
  })
}

const STATUS_TEXT: Record<number, string> = { 400: 'Bad Request', 409: 'Conflict', 413: 'Payload Too Large', 422: 'Unprocessable Entity' }

/**
 * The updater's refusal as the page's answer: the same status and its reason when it judged the
 * bundle (400 refused, 409 busy, 413 too large). An updater that cannot be reached is a 503; any
 * other answer (its signature check, a 5xx, something unexpected) is a 502, never a 401 the page
 * would read as being signed out.
 */
export function bundleImportError(err: unknown) {
  if (err instanceof SidecarUnreachableError) {
    return createError({ statusCode: 503, statusMessage: 'Service Unavailable', message: `The bundle could not be handed to the updater: ${err.message}` })
  }
  if (err instanceof SidecarRejectedError && !err.unexpected && STATUS_TEXT[err.status]) {
    return createError({ statusCode: err.status, statusMessage: STATUS_TEXT[err.status], message: err.detail ?? err.message })
  }
  return createError({ statusCode: 502, statusMessage: 'Bad Gateway', message: `The updater could not import the bundle: ${err instanceof Error ? err.message : String(err)}` })
}
