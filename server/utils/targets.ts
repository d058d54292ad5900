/**
 * Whether a release may be the target of an update or a rollback, with the reason when not.
 * Framework-independent.
 */
import type { RunKind } from '../../shared/run-state'
import type { Release } from '../../shared/schemas/release'
import { compareVersions, isOnChannel, isVersion, type Channel } from '../../shared/version'

export type TargetCheck = { ok: true, release: Release } | { ok: false, reason: string }

export function checkTarget(opts: {
  kind: RunKind
  targetVersion: string
  currentVersion: string
  channel: Channel
  releases: Release[]
}): TargetCheck {
  const { kind, targetVersion: target, currentVersion: current, channel, releases } = opts
  const release = releases.find(r => r.version === target)
  if (!release) return { ok: false, reason: `Unknown version ${target}: no such release is known` }
  if (!isVersion(current)) {
    return { ok: false, reason: `The running version "${current}" is not a release version, so it cannot be ${kind === 'update' ? 'updated' : 'rolled back'}` }
  }
  if (!isOnChannel(target, channel)) {
    return { ok: false, reason: `${target} is a pre-release; switch the update channel to beta to install it` }
  }
  const order = compareVersions(target, current)
  if (kind === 'update' && order <= 0) {
    return { ok: false, reason: `${target} is not newer than the running version ${current}` }
  }
  if (kind === 'rollback' && order >= 0) {
    return { ok: false, reason: `${target} is not older than the running version ${current}; a rollback must target an earlier release` }
  }
  if (!release.verified) {
    return { ok: false, reason: `Release ${target} failed verification and cannot be installed: ${release.verifyError ?? 'unknown reason'}` }
  }
  if (kind === 'rollback') {
    const running = releases.find(r => r.version === current)
    const floor = running?.migratesData ? running.rollbackFloor : null
    if (floor && compareVersions(target, floor) < 0) {
      return { ok: false, reason: `${current} migrated data and cannot roll back below ${floor}` }
    }
  }
  return { ok: true, release }
}
