/**
 * The plan of an update, a rollback or a rehearsal (`GET /api/system/plan`, and the gate of
 * `POST /api/system/updates`, `/rollbacks` and `/rehearsals`): the checks (shared/node/checks/plan.ts) on facts
 * gathered here and from the updater, the path through required upgrade stops
 * (shared/upgrade-path.ts), the images that change, the masked compose diff, the migrations.
 */
import semver from 'semver'
import { composeDiff } from '#layers/owlat-system/shared/compose-diff'
import { artifactNames } from '#layers/owlat-system/shared/release-artifacts'
import { verifyManifest, verifyRelease, type ReleaseArtifacts, type ReleaseKeys } from '#layers/owlat-system/shared/release-verify'
import type { Plan, PlanCheck, PlanKind, Run } from '#layers/owlat-system/shared/schemas/api'
import type { SidecarHealth } from '#layers/owlat-system/shared/schemas/job'
import type { Release, ReleaseManifest } from '#layers/owlat-system/shared/schemas/release'
import { computeUpgradePath, UpgradePathError } from '#layers/owlat-system/shared/upgrade-path'
import { isReleaseOnChannel, releasesBetween } from '#layers/owlat-system/shared/version'
import { checkComposePolicy, describePolicyViolations } from '../../shared/compose-policy'
import { askStackChecks, NEVER_IGNORED, planChecks, stackPlanChecks, type PlanFacts, type Verdict } from '../../shared/node/checks/plan'
import { fail, ok, type Check } from '../../shared/node/checks/types'
import { checkTarget } from '../../shared/targets'
import { checkReleaseIndexFresh } from '../../shared/node/checks/release-index'
import { readIndexState, readReleases } from './releases'
import { ROLLBACK_HISTORY_LIMIT } from './rollbacks'
import { syncFromSidecar } from './runs'

/** Failures no override lets through: also a target with no path to it. */
const NOT_IGNORABLE = new Set([...NEVER_IGNORED, 'upgrade-path'])

export interface PlanOptions {
  /** The active run as the caller just synced it; otherwise the plan syncs. */
  active?: Run | null
  /** The target's artifacts as the caller just downloaded them; otherwise the plan downloads them. */
  targetArtifacts?: ReleaseArtifacts
}

async function artifactsOf(version: string): Promise<ReleaseArtifacts | null> {
  return useReleaseSource().getArtifacts(version).catch(() => null)
}

function manifestOf(artifacts: ReleaseArtifacts | null, key: ReleaseKeys): ReleaseManifest | null {
  if (!artifacts) return null
  const verified = verifyManifest(artifacts.manifestBytes, artifacts.signature, key)
  return verified.ok ? verified.manifest : null
}

/** Images by service, tag and digest as pinned. */
function imageChanges(from: ReleaseManifest | null, to: ReleaseManifest | null): Plan['images'] {
  const before = new Map((from?.images ?? []).map(i => [i.service, i.image]))
  const after = new Map((to?.images ?? []).map(i => [i.service, i.image]))
  const services = [...new Set([...after.keys(), ...before.keys()])]
  return services
    .map(service => ({ service, from: before.get(service) ?? null, to: after.get(service) ?? null }))
    .filter(i => i.from !== i.to)
}

function highestFloor(releases: Release[]): string | null {
  const floors = releases.filter(r => r.migratesData && r.rollbackFloor).map(r => r.rollbackFloor!)
  return floors.sort(semver.rcompare)[0] ?? null
}

function pathCheck(path: string[], error: string | null, target: string): Check {
  if (error) return fail('upgrade-path', error, 'make the releases on the way available (another channel, Check now), or pick a nearer target', true)
  if (path.length > 1) return ok('upgrade-path', `${target} goes through required upgrade stops: ${path.join(' → ')}`, true)
  return ok('upgrade-path', `${target} installs directly over the running version`, true)
}

function toPlanCheck(check: Check, refusing: ReadonlySet<string>): PlanCheck | null {
  // A check that does not apply here says nothing about this update.
  if (check.status === 'skip') return null
  return { id: check.id, status: check.status, message: check.message, fix: check.fix, ignorable: !NOT_IGNORABLE.has(check.id) && !refusing.has(check.id) }
}

/**
 * The plan for `kind` to `targetVersion` from the running version. Throws 400 (as the POST would)
 * when the target itself is not allowed: the plan describes a run that may start.
 */
export async function buildPlan(kind: PlanKind, targetVersion: string, options: PlanOptions = {}): Promise<Plan> {
  const store = useStore()
  const config = useOwlatConfig()
  // Every key this instance trusts: configured, and learned from a signed index's rotation.
  const key = await useReleaseSource().keys()
  const active = options.active !== undefined ? options.active : await syncFromSidecar(useReconcileDeps())
  const [{ releases }, { channel }, runs] = await Promise.all([readReleases(store, useReleaseSource(), config.releaseCheck), store.getSettings(), store.listRuns(ROLLBACK_HISTORY_LIMIT)])
  const running = currentVersion()
  const target = checkTarget({ kind, targetVersion, currentVersion: running, channel, releases, runs, retryFailed: true })
  if (!target.ok) throw createError({ statusCode: 400, statusMessage: 'Bad Request', message: target.reason })

  // A rehearsal goes the way its update would: through the same stops, with the same checks.
  const forward = kind !== 'rollback'
  let path: string[] = [targetVersion]
  let pathError: string | null = null
  if (forward) {
    try {
      path = computeUpgradePath(running, targetVersion, releases.filter(r => r.verified && isReleaseOnChannel(r, channel)))
    }
    catch (err) {
      if (!(err instanceof UpgradePathError)) throw err
      path = []
      pathError = err.message
    }
  }

  const [targetArtifacts, runningArtifacts, health] = await Promise.all([
    (options.targetArtifacts ? Promise.resolve(options.targetArtifacts) : useReleaseSource().getArtifacts(targetVersion)).then(a => ({ ok: true as const, artifacts: a }), (err: Error) => ({ ok: false as const, error: err.message })),
    artifactsOf(running),
    useSidecar().health().then((h): { ok: true, health: SidecarHealth } => ({ ok: true, health: h }), (err: Error) => ({ ok: false as const, error: err.message })),
  ])
  let verification: Verdict
  let policy: Verdict = { ok: true }
  let requires: ReleaseManifest['requires'] | null = null
  if (targetArtifacts.ok) {
    const verified = verifyRelease({ ...targetArtifacts.artifacts, expectedVersion: targetVersion }, key)
    verification = verified.ok ? { ok: true } : { ok: false, reason: verified.reason }
    const judged = checkComposePolicy(targetArtifacts.artifacts.compose, useComposePolicy())
    if (!judged.ok) policy = { ok: false, reason: describePolicyViolations(judged.violations) }
    requires = manifestOf(targetArtifacts.artifacts, key)?.requires ?? (verified.ok ? {} : null)
  }
  else {
    verification = { ok: false, reason: `its artifacts cannot be read: ${targetArtifacts.error}` }
    policy = { ok: false, reason: 'the compose file cannot be read' }
  }
  const facts: PlanFacts = {
    kind,
    targetVersion,
    updater: health,
    requires,
    verification,
    policy,
    active: active ? { id: active.id, kind: active.kind, toVersion: active.toVersion } : null,
  }
  // An update needs fresh release information (a frozen index is a freeze attack); a rollback goes back to what ran.
  const freshness = forward ? [checkReleaseIndexFresh(await readIndexState(store, useReleaseSource()))] : []
  // What the updater's preflight will judge of the stack the target runs: only a verified file that passes the policy is worth asking about.
  const stack = health.ok && targetArtifacts.ok && verification.ok && policy.ok
    ? stackPlanChecks(await askStackChecks(useSidecar(), targetArtifacts.artifacts.compose))
    : { checks: [], refusing: [] }
  const refusing = new Set(stack.refusing)
  const checks = [...planChecks(facts), pathCheck(path, pathError, targetVersion), ...freshness, ...stack.checks]
    .map(c => toPlanCheck(c, refusing))
    .filter((c): c is PlanCheck => c !== null)

  const targetManifest = targetArtifacts.ok ? manifestOf(targetArtifacts.artifacts, key) : null
  const crossed = forward ? releasesBetween(releases, running, targetVersion, channel) : target.undoes
  return {
    kind,
    fromVersion: running,
    targetVersion,
    path,
    checks,
    images: imageChanges(manifestOf(runningArtifacts, key), targetManifest),
    composeDiff: composeDiff(
      { name: artifactNames(running).compose, text: runningArtifacts?.compose ?? null },
      { name: artifactNames(targetVersion).compose, text: targetArtifacts.ok ? targetArtifacts.artifacts.compose : null },
    ),
    migratesData: crossed.some(r => r.migratesData),
    rollbackFloor: highestFloor(crossed),
    migrations: crossed.map(r => ({ version: r.version, migratesData: r.migratesData, rollbackFloor: r.rollbackFloor })),
  }
}

/** The plan's failing checks, and whether an override may let them through. */
export function planFailures(plan: Plan): { failing: PlanCheck[], ignorable: boolean } {
  const failing = plan.checks.filter(c => c.status === 'fail')
  return { failing, ignorable: failing.every(c => c.ignorable) }
}
