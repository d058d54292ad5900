/** The one read behind the page and the banner (`GET /api/system/status`). */
import { isActiveStatus } from '#shared/run-state'
import type { SessionUser, SystemStatus } from '#shared/schemas/api'
import { newestApplicable } from '#shared/version'
import { readReleases } from './releases'
import { syncFromSidecar } from './runs'

export async function systemStatus(user: SessionUser): Promise<SystemStatus> {
  const store = useStore()
  const [activeRun, cache, { channel }] = await Promise.all([
    // Synced from the sidecar, so a run started from the CLI shows (and blocks) here too.
    syncFromSidecar(useReconcileDeps()),
    readReleases(store, useReleaseSource()),
    store.getSettings(),
  ])
  const version = currentVersion()
  // Unverified releases are listed but never offered.
  const latest = newestApplicable(cache.releases.filter(r => r.verified), version, channel)
  const dismissed = latest !== null && latest.severity !== 'security' && await store.isDismissed(user.id, latest.version)
  return {
    currentVersion: version,
    buildId: currentBuildId(),
    channel,
    latest,
    updateAvailable: latest !== null,
    severity: latest?.severity ?? null,
    dismissed,
    activeRun: activeRun && isActiveStatus(activeRun.status) ? activeRun : null,
    lastCheck: { checkedAt: cache.checkedAt, error: cache.error },
  }
}
