/** The one read behind the page and the banner (`GET /api/system/status`). */
import { landedVersion } from '#layers/owlat-system/shared/hops'
import { isRehearsal } from '#layers/owlat-system/shared/rehearsal'
import { isActiveStatus } from '#layers/owlat-system/shared/run-state'
import type { Run, SessionUser, SystemStatus } from '#layers/owlat-system/shared/schemas/api'
import { failedReleases, rollbackAvailability } from '#layers/owlat-system/shared/targets'
import { newestApplicable } from '#layers/owlat-system/shared/version'
import { bundleUploadInfo } from './bundles'
import { readIndexState, readReleases } from './releases'
import type { SystemStore } from './store/types'

/**
 * Runs the status reads (failed releases, rollback targets, the outcome to acknowledge): enough
 * for years of updates, and cheap to read every poll.
 */
const STATUS_RUNS = 50

/**
 * The committed version: while a run is in flight, the one it started from, or the one its last
 * committed hop installed (a run through required stops). The web answering may already be the
 * new one (it is, during `verify`), but nothing is installed until `commit`.
 */
export function committedVersion(activeRun: Run | null): string {
  return activeRun && isActiveStatus(activeRun.status) ? landedVersion(activeRun) ?? activeRun.fromVersion : currentVersion()
}

/**
 * The newest finished run when it failed or was rolled back and no admin acknowledged it. A newer
 * finished run (a successful retry, say) supersedes it: only the latest outcome needs attention.
 * Rehearsals count neither way: they ran on a copy, and their result is in the update dialog.
 */
async function unacknowledgedRun(store: SystemStore, runs: Run[]): Promise<Run | null> {
  const latest = runs.find(r => !isActiveStatus(r.status) && !isRehearsal(r))
  if (!latest || (latest.status !== 'failed' && latest.status !== 'rolled_back')) return null
  return await store.getAcknowledgement(latest.id) ? null : latest
}

export async function systemStatus(user: SessionUser): Promise<SystemStatus> {
  const store = useStore()
  const [active, cache, { channel }] = await Promise.all([
    // The reconciliation loop (server/utils/reconciler.ts) keeps it synced from the sidecar, so a
    // run started from the CLI shows here too; a status read itself asks the sidecar nothing.
    store.getActiveRun(),
    readReleases(store, useReleaseSource(), useOwlatConfig().releaseCheck),
    store.getSettings(),
  ])
  // After the read: a first check may just have accepted the index.
  const index = await readIndexState(store, useReleaseSource())
  const activeRun = active && isActiveStatus(active.status) ? active : null
  const runs = await store.listRuns(STATUS_RUNS)
  const version = committedVersion(activeRun)
  // Unverified releases are listed but never offered.
  const latest = newestApplicable(cache.releases.filter(r => r.verified), version, channel)
  const dismissed = latest !== null && latest.severity !== 'security' && await store.isDismissed(user.id, latest.version)
  return {
    currentVersion: version,
    webVersion: currentVersion(),
    buildId: currentBuildId(),
    channel,
    latest,
    updateAvailable: latest !== null,
    severity: latest?.severity ?? null,
    dismissed,
    activeRun,
    unacknowledgedRun: await unacknowledgedRun(store, runs),
    lastCheck: { checkedAt: cache.checkedAt, error: cache.error, nextCheckAt: cache.nextCheckAt },
    failedReleases: failedReleases(runs),
    rollback: rollbackAvailability({ currentVersion: version, channel, releases: cache.releases, runs }),
    verifyTimeoutMs: useOwlatConfig().verifyTimeoutMs,
    releaseIndex: {
      serial: index.index?.serial ?? null,
      expiresAt: index.index?.expiresAt ?? null,
      stale: index.expired,
      error: index.error,
      revokedRunning: index.index?.revoked.find(r => r.version === version) ?? null,
      rollbackRefusal: index.rollbackRefusal,
    },
    watchMs: useOwlatConfig().watchMs,
    bundleUpload: bundleUploadInfo(useOwlatConfig()),
  }
}
