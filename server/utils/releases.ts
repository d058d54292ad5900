/**
 * The release cache: the last good list stays in the store with the time of the last check and
 * its error, so a failing source never empties the page. Checks are conditional (the source's
 * validators are kept beside the cache), respect rate limits, and the scheduled one is claimed
 * in the store so replicas sharing it ask once per interval between them. Framework-independent.
 */
import { GitHubRateLimitError } from '../../shared/releases/github'
import type { ReleaseSource } from '../../shared/releases/source'
import type { ReleaseCache, ReleaseCheckState, SystemStore } from './store/types'

/** The cache as the API shows it, with when the source will be asked next. */
export interface ReleaseCheckView extends ReleaseCache {
  /** The scheduled slot or the end of a rate limit, whichever is later; null when none is set. */
  nextCheckAt: number | null
}

export interface CheckTiming {
  intervalMs: number
  /** A random 0…jitterMs is added to each interval, never taken off. */
  jitterMs: number
  random?: () => number
}

function view(cache: ReleaseCache, state: ReleaseCheckState): ReleaseCheckView {
  const next = Math.max(state.nextCheckAt ?? 0, state.retryAt ?? 0)
  return { ...cache, nextCheckAt: next > 0 ? next : null }
}

/** Asks the source now ("Check now", the first read) unless it rate-limited us and the wait is not over. */
export async function refreshReleases(store: SystemStore, source: ReleaseSource, now = Date.now()): Promise<ReleaseCheckView> {
  const [previous, state] = await Promise.all([store.getReleaseCache(), store.getReleaseCheckState()])
  // Asking before the limit resets would only be refused again; the recorded error already says when.
  if (state.retryAt !== null && state.retryAt > now) return view(previous, state)

  let cache: ReleaseCache
  try {
    const listing = await source.listReleases({ releases: previous.releases, etag: state.etag, fingerprints: state.fingerprints })
    cache = { releases: listing.releases, checkedAt: now, error: null }
    await store.saveReleaseCache(cache)
    // After the cache: a crash in between leaves the old ETag, which only costs one full answer.
    await store.saveReleaseCheckState({ etag: listing.etag, fingerprints: listing.fingerprints, retryAt: null })
  }
  catch (err) {
    const message = err instanceof Error ? err.message : String(err)
    cache = { releases: previous.releases, checkedAt: now, error: `release check failed: ${message}` }
    await store.saveReleaseCache(cache)
    if (err instanceof GitHubRateLimitError) await store.saveReleaseCheckState({ retryAt: err.retryAt })
  }
  return view(cache, await store.getReleaseCheckState())
}

/**
 * The scheduled check: asks the source only when this replica claims the due slot, and moves the
 * slot one (jittered) interval on. Returns null when the slot is not due or another replica took it.
 */
export async function runScheduledCheck(store: SystemStore, source: ReleaseSource, timing: CheckTiming, now = Date.now()): Promise<ReleaseCheckView | null> {
  const jitter = Math.floor((timing.random ?? Math.random)() * timing.jitterMs)
  if (!await store.claimReleaseCheck(now, now + timing.intervalMs + jitter)) return null
  return refreshReleases(store, source, now)
}

/**
 * The cached releases. When they were never checked, asks the source first; with `timing`, only
 * if this replica claims the check (otherwise another one is asking right now: the empty cache is
 * the truth until it is done).
 */
export async function readReleases(store: SystemStore, source: ReleaseSource, timing?: CheckTiming, now = Date.now()): Promise<ReleaseCheckView> {
  const [cache, state] = await Promise.all([store.getReleaseCache(), store.getReleaseCheckState()])
  if (cache.checkedAt !== null) return view(cache, state)
  if (!timing) return refreshReleases(store, source, now)
  return (await runScheduledCheck(store, source, timing, now)) ?? view(cache, await store.getReleaseCheckState())
}
