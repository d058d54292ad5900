/**
 * Required upgrade stops: a release whose signed manifest says `minimumFrom: X` installs only over
 * X or newer, so an older instance is taken through intermediate releases first. One pure rule for
 * every process: the plan and the dialog show the path, the CLI prints it, the web sends it with
 * the job and the updater runs it hop by hop. Browser-safe.
 */
import semver from 'semver'
import { isVersion } from './version'

/** What the rule reads of a release: its version and its stop, if any. */
export interface PathRelease {
  version: string
  minimumFrom?: string | null
}

/** No way from the running version to the target through the releases given. */
export class UpgradePathError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'UpgradePathError'
  }
}

/** Whether `release` installs over `version` (its `minimumFrom`, when it has one, is at most `version`). */
export function installsOver(release: PathRelease, version: string): boolean {
  return !release.minimumFrom || semver.gte(version, release.minimumFrom)
}

/**
 * The versions to install, in order, to go from `fromVersion` to `targetVersion`: each hop the
 * newest release up to the target that installs over the version before it, ending with the
 * target; the running version is not in it. Going further on each hop never loses a way on,
 * since a newer version satisfies every `minimumFrom` an older one does, so this is also the
 * shortest path. `releases` are the ones the caller may install (its channel, verified); the
 * target must be among them. Throws `UpgradePathError` saying what is missing when there is no path.
 */
export function computeUpgradePath(fromVersion: string, targetVersion: string, releases: readonly PathRelease[]): string[] {
  if (!isVersion(fromVersion)) throw new UpgradePathError(`the running version ${fromVersion} is not a release version, so no upgrade path can be computed`)
  if (!isVersion(targetVersion)) throw new UpgradePathError(`${targetVersion} is not a release version`)
  if (!semver.gt(targetVersion, fromVersion)) throw new UpgradePathError(`${targetVersion} is not newer than the running ${fromVersion}`)
  const target = releases.find(r => r.version === targetVersion)
  if (!target) throw new UpgradePathError(`release ${targetVersion} is not among the releases available here`)
  const candidates = releases
    .filter(r => isVersion(r.version) && semver.gt(r.version, fromVersion) && semver.lte(r.version, targetVersion))
    .sort((a, b) => semver.rcompare(a.version, b.version))
  const path: string[] = []
  let at = fromVersion
  while (at !== targetVersion) {
    const next = candidates.find(r => semver.gt(r.version, at) && installsOver(r, at))
    if (!next) {
      const blocked = candidates.find(r => semver.gt(r.version, at))!
      throw new UpgradePathError(`no upgrade path from ${fromVersion} to ${targetVersion}: ${blocked.version} installs only over ${blocked.minimumFrom} or newer, and no release available here between ${at} and it installs over ${at}`)
    }
    path.push(next.version)
    at = next.version
  }
  return path
}

/**
 * Whether installing `hops` in order, starting from `fromVersion`, honours every required stop:
 * each hop newer than the version before it and installing over it. Null when it does, the reason
 * when not. The updater judges every job by it, whoever computed the path.
 */
export function pathChainError(fromVersion: string, hops: readonly PathRelease[]): string | null {
  let at = fromVersion
  for (const hop of hops) {
    if (!isVersion(hop.version) || !isVersion(at) || !semver.gt(hop.version, at)) return `the path goes from ${at} to ${hop.version}, which is not newer`
    if (!installsOver(hop, at)) {
      return `${hop.version} installs only over ${hop.minimumFrom} or newer, not over ${at}: ${hops.length > 1 || at !== fromVersion ? 'the path misses a required upgrade stop' : `install ${hop.minimumFrom} first (the plan's path goes through it)`}`
    }
    at = hop.version
  }
  return null
}
