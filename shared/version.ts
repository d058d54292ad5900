import semver from 'semver'

/** The product's own release tags: `vX.Y.Z` or `vX.Y.Z-pre`; nothing else counts. */
const PRODUCT_TAG = /^v(\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?)$/

export type Channel = 'stable' | 'beta'

/** `v1.2.3` → `1.2.3`; anything that is not a product tag (server-v1.2.3, v1.2, latest) → null. */
export function versionFromTag(tag: string): string | null {
  const m = PRODUCT_TAG.exec(tag.trim())
  if (!m) return null
  return semver.valid(m[1]!) ? m[1]! : null
}

/** A strict semver version (no leading v, no ranges). */
export function isVersion(value: string): boolean {
  return semver.valid(value) === value
}

export function isPrerelease(version: string): boolean {
  return (semver.prerelease(version)?.length ?? 0) > 0
}

export function compareVersions(a: string, b: string): number {
  return semver.compare(a, b)
}

/** Newest first. */
export function sortVersionsDesc<T>(items: T[], get: (item: T) => string): T[] {
  return [...items].sort((x, y) => semver.rcompare(get(x), get(y)))
}

/** Pre-releases only count on the beta channel. */
export function isOnChannel(version: string, channel: Channel): boolean {
  return channel === 'beta' || !isPrerelease(version)
}

/** A release as the channel rules read it: its version, and the channel its signed manifest names. */
export interface ChannelledRelease {
  version: string
  channel?: Channel
}

/**
 * Whether `channel` offers the release: the beta channel everything, the stable one neither a
 * pre-release nor a release whose manifest says it is published on beta.
 */
export function isReleaseOnChannel(release: ChannelledRelease, channel: Channel): boolean {
  return isOnChannel(release.version, channel) && (channel === 'beta' || release.channel !== 'beta')
}

/**
 * Whether `candidate` is an update for an instance running `current`.
 * A current version that is not semver (e.g. `dev`) never has updates.
 */
export function isUpdate(candidate: string | ChannelledRelease, current: string, channel: Channel): boolean {
  const release = typeof candidate === 'string' ? { version: candidate } : candidate
  if (!isVersion(current) || !isVersion(release.version)) return false
  return isReleaseOnChannel(release, channel) && semver.gt(release.version, current)
}

/** The newest release that is an update for `current` on `channel`, if any. */
export function newestApplicable<T extends ChannelledRelease>(
  releases: T[],
  current: string,
  channel: Channel,
): T | null {
  const candidates = releases.filter(r => isUpdate(r, current, channel))
  return sortVersionsDesc(candidates, r => r.version)[0] ?? null
}

/**
 * What an update from `current` to `target` jumps over, newest first: every release on the
 * channel newer than `current` up to and including `target`. Empty when either is not semver.
 */
export function releasesBetween<T extends ChannelledRelease>(
  releases: T[],
  current: string,
  target: string,
  channel: Channel,
): T[] {
  if (!isVersion(current) || !isVersion(target)) return []
  const between = releases.filter(r => isVersion(r.version) && isReleaseOnChannel(r, channel)
    && semver.gt(r.version, current) && semver.lte(r.version, target))
  return sortVersionsDesc(between, r => r.version)
}
