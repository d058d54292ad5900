/**
 * The release cache: the last good list stays in the store with the time of the last check and
 * its error, so a failing source never empties the page. Checks are conditional (the source's
 * validators are kept beside the cache), respect rate limits, and the scheduled one is claimed
 * in the store so replicas sharing it ask once per interval between them. Framework-independent.
 */
import { applyReleaseIndex, evaluateIndex, storedIndex } from '../../shared/release-index'
import { GitHubRateLimitError } from '../../shared/releases/github'
import type { ReleaseSource } from '../../shared/releases/source'
import type { ReleaseIndex } from '../../shared/schemas/release'
import type { ReleaseCache, ReleaseCheckState, ReleaseTrust, SystemStore } from './store/types'

/** The cache as the API shows it, with when the source will be asked next. */
export interface ReleaseCheckView extends ReleaseCache {
  /** The scheduled slot or the end of a rate limit, whichever is later; null when none is set. */
  nextCheckAt: number | null
}

/** The signed index this instance judges releases by, as of now. */
export interface IndexState {
  index: ReleaseIndex | null
  /** Past its expiry: a frozen list. No update starts without an override. */
  expired: boolean
  /** Why there is no usable index; null when there is one. */
  error: string | null
  rollbackRefusal: ReleaseTrust['rollbackRefusal']
}

/** The last accepted index, judged again now (keys may have been retired, time has passed). */
export async function readIndexState(store: SystemStore, source: ReleaseSource, now = Date.now()): Promise<IndexState> {
  const trust = await store.getReleaseTrust()
  const verdict = storedIndex(trust, await source.keys(), now)
  if (!verdict) return { index: null, expired: false, error: `no signed release index has been accepted from ${source.where} yet`, rollbackRefusal: trust.rollbackRefusal }
  if (!verdict.ok) return { index: null, expired: false, error: verdict.reason, rollbackRefusal: trust.rollbackRefusal }
  return { index: verdict.index, expired: verdict.expired, error: null, rollbackRefusal: trust.rollbackRefusal }
}

/** The source's verdicts with the index's on top: only what the index lists, unrevoked, with its manifest. */
async function judged(store: SystemStore, source: ReleaseSource, cache: ReleaseCache, now: number): Promise<ReleaseCache> {
  const state = await readIndexState(store, source, now)
  return { ...cache, releases: applyReleaseIndex(cache.releases, state.index, state.error ?? 'no signed release index') }
}

/**
 * Asks for the index with the listing and keeps what it teaches: the ratchet moves, announced
 * keys are learned, a replayed (lower) serial is refused and recorded. Returns why the served
 * index was refused, or null.
 */
async function learnIndex(store: SystemStore, source: ReleaseSource, served: Parameters<typeof evaluateIndex>[0], now: number): Promise<string | null> {
  const trust = await store.getReleaseTrust()
  const evaluation = evaluateIndex(served, trust, await source.keys(), source.where, now)
  if (evaluation.patch && !await store.saveReleaseTrust(evaluation.patch)) {
    // Another replica accepted a newer index in between: that one stands.
    return null
  }
  return evaluation.error
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
  if (state.retryAt !== null && state.retryAt > now) return view(await judged(store, source, previous, now), state)

  let cache: ReleaseCache
  try {
    const listing = await source.listReleases({ releases: previous.releases, etag: state.etag, fingerprints: state.fingerprints })
    const indexError = await learnIndex(store, source, listing.index, now)
    cache = { releases: listing.releases, checkedAt: now, error: indexError ? `release index refused: ${indexError}` : null }
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
  return view(await judged(store, source, cache, now), await store.getReleaseCheckState())
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
  if (cache.checkedAt !== null) return view(await judged(store, source, cache, now), state)
  if (!timing) return refreshReleases(store, source, now)
  return (await runScheduledCheck(store, source, timing, now)) ?? view(await judged(store, source, cache, now), await store.getReleaseCheckState())
}
