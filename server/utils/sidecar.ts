/**
 * The web's view of the updater sidecar: the shared client (`shared/sidecar-client.ts`), of which
 * the web uses the job, health and stack-check calls. Framework-independent.
 */
import { SidecarClient as SharedSidecarClient } from '../../shared/sidecar-client'

export { SidecarRejectedError, SidecarUnreachableError } from '../../shared/sidecar-client'

export type SidecarClient = Pick<SharedSidecarClient, 'createJob' | 'getJob' | 'listJobs' | 'health' | 'bundle' | 'stackChecks'>

/** The backup archives' reads (the page's list and download links). */
export type SidecarBackupsClient = Pick<SharedSidecarClient, 'listBackups' | 'downloadBackup'>

/** Offline release bundles the page uploads, handed on to the updater. */
export type SidecarBundlesClient = Pick<SharedSidecarClient, 'importBundle'>

export function createSidecarClient(opts: { baseUrl: string, secret: () => string, timeoutMs?: number }): SidecarClient & SidecarBackupsClient & SidecarBundlesClient {
  return new SharedSidecarClient({ url: opts.baseUrl, secret: opts.secret, timeoutMs: opts.timeoutMs })
}
