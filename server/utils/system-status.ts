/** The one read behind the page and the banner (`GET /api/system/status`). */
import { isActiveStatus } from '#layers/owlat-system/shared/run-state'
import type { Run, SessionUser, SystemStatus } from '#layers/owlat-system/shared/schemas/api'
import { newestApplicable } from '#layers/owlat-system/shared/version'
import { readReleases } from './releases'
import type { SystemStore } from './store/types'

/**
 * The newest finished run when it failed or was rolled back and no admin acknowledged it. A newer
 * finished run (a successful retry, say) supersedes it: only the latest outcome needs attention.
 */
async function unacknowledgedRun(store: SystemStore): Promise<Run | null> {
  const latest = (await store.listRuns(5)).find(r => !isActiveStatus(r.status))
  if (!latest || (latest.status !== 'failed' && latest.status !== 'rolled_back')) return null
  return await store.getAcknowledgement(latest.id) ? null : latest
}

export async function systemStatus(user: SessionUser): Promise<SystemStatus> {
  const store = useStore()
  const [activeRun, cache, { channel }] = await Promise.all([
    // The reconciliation loop (server/utils/reconciler.ts) keeps it synced from the sidecar, so a
    // run started from the CLI shows here too; a status read itself asks the sidecar nothing.
    store.getActiveRun(),
    readReleases(store, useReleaseSource(), useOwlatConfig().releaseCheck),
    store.getSettings(),
  ])
  const version = currentVersion()
  // Unverified releases are listed but never offered.
  const latest = newestApplicable(cache.releases.filter(r => r.verified), version, channel)
  const dismissed = latest !== null && latest.severity !== 'security' && await store.isDismissed(user.id, latest.version)
  const attention = await unacknowledgedRun(store)
  return {
    currentVersion: version,
    buildId: currentBuildId(),
    channel,
    latest,
    updateAvailable: latest !== null,
    severity: latest?.severity ?? null,
    dismissed,
    activeRun: activeRun && isActiveStatus(activeRun.status) ? activeRun : null,
    unacknowledgedRun: attention,
    lastCheck: { checkedAt: cache.checkedAt, error: cache.error, nextCheckAt: cache.nextCheckAt },
  }
}
