import type { PendingReleases } from '#layers/owlat-system/shared/schemas/release'
import { newestApplicable, releasesBetween } from '#layers/owlat-system/shared/version'

// Everything an update to the newest release jumps over, so an admin several versions behind
// reads every version's notes and sees which ones migrate data before updating.
export default defineEventHandler(async (event): Promise<PendingReleases> => {
  await requirePlatformAdmin(event)
  const store = useStore()
  const [{ releases }, { channel }] = await Promise.all([
    readReleases(store, useReleaseSource(), useOwlatConfig().releaseCheck),
    store.getSettings(),
  ])
  // What an update from the committed version installs, also while a run is in flight.
  const current = committedVersion(await store.getActiveRun())
  // The same target the status offers: unverified releases are never it.
  const target = newestApplicable(releases.filter(r => r.verified), current, channel)
  const between = target ? releasesBetween(releases, current, target.version, channel) : []
  return {
    currentVersion: current,
    target: target?.version ?? null,
    releases: between,
    migratesData: between.some(r => r.migratesData),
  }
})
