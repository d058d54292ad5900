/**
 * The release cache: the last good list stays in the store with the time of the last check and
 * its error, so a failing source never empties the page. Framework-independent.
 */
import type { ReleaseSource } from './release-source'
import type { ReleaseCache, SystemStore } from './store/types'

export async function refreshReleases(store: SystemStore, source: ReleaseSource, now = Date.now()): Promise<ReleaseCache> {
  const previous = await store.getReleaseCache()
  let cache: ReleaseCache
  try {
    cache = { releases: await source.listReleases(), checkedAt: now, error: null }
  }
  catch (err) {
    const message = err instanceof Error ? err.message : String(err)
    cache = { releases: previous.releases, checkedAt: now, error: `release check failed: ${message}` }
  }
  await store.saveReleaseCache(cache)
  return cache
}

/** The cached releases; asks the source first when it was never asked. */
export async function readReleases(store: SystemStore, source: ReleaseSource): Promise<ReleaseCache> {
  const cache = await store.getReleaseCache()
  return cache.checkedAt === null ? refreshReleases(store, source) : cache
}
