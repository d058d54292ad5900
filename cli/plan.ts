/**
 * The plan's checks and path as the CLI gathers them (`owlat upgrade`, `owlat doctor`): the same
 * judgement (shared/node/checks/plan.ts) and path rule (shared/upgrade-path.ts) the web's plan
 * uses, on what the updater reports and the release as it verifies now.
 */
import { checkReleaseIndexFresh, type IndexFreshnessInput } from '../shared/node/checks/release-index'
import { checkComposePolicy, describePolicyViolations, type ComposePolicyOptions } from '../shared/compose-policy'
import { NEVER_IGNORED, planChecks, stackPlanChecks, type PlanFacts, type StackAnswer, type Verdict } from '../shared/node/checks/plan'
import type { Check } from '../shared/node/checks/types'
import { verifyRelease, type ReleaseArtifacts } from '../shared/release-verify'
import type { Job, SidecarHealth } from '../shared/schemas/job'
import type { Release, ReleaseManifest } from '../shared/schemas/release'
import { computeUpgradePath, UpgradePathError } from '../shared/upgrade-path'
import { isReleaseOnChannel, type Channel } from '../shared/version'

export interface CliPlanInput {
  /** A rehearsal's free-disk check counts its copy of the data. */
  kind: PlanFacts['kind']
  targetVersion: string
  health: { ok: true, health: SidecarHealth } | { ok: false, error: string }
  /** The target's artifacts as the source has them now, or why they cannot be read. */
  artifacts: { ok: true, artifacts: ReleaseArtifacts } | { ok: false, error: string }
  publicKey: string
  policy: ComposePolicyOptions
  /** The updater's recent jobs: an active one fails `no-active-run`. */
  jobs: Job[]
  /** The updater's stack checks on the target's compose file (`askStackChecks`); absent when not asked. */
  stack?: StackAnswer
  /** The source's signed index as judged: an update needs a fresh one (`release-index-fresh`); absent when not judged. */
  index?: IndexFreshnessInput
}

export interface CliPlanChecks {
  checks: Check[]
  /** Failing checks the updater refuses whatever the override (its blocking stack checks). */
  refusing: ReadonlySet<string>
}

/** The plan's checks, in their order, then the updater's stack checks. */
export function cliPlanChecks(input: CliPlanInput): CliPlanChecks {
  let verification: Verdict = { ok: false, reason: input.artifacts.ok ? '' : `its artifacts cannot be read: ${input.artifacts.error}` }
  let policy: Verdict = { ok: false, reason: 'the compose file cannot be read' }
  let requires: ReleaseManifest['requires'] | null = null
  if (input.artifacts.ok) {
    const verified = verifyRelease({ ...input.artifacts.artifacts, expectedVersion: input.targetVersion }, input.publicKey)
    verification = verified.ok ? { ok: true } : { ok: false, reason: verified.reason }
    if (verified.ok) requires = verified.manifest.requires ?? {}
    const judged = checkComposePolicy(input.artifacts.artifacts.compose, input.policy)
    policy = judged.ok ? { ok: true } : { ok: false, reason: describePolicyViolations(judged.violations) }
  }
  const active = input.jobs.find(j => j.status === 'queued' || j.status === 'running')
  const stack = input.stack ? stackPlanChecks(input.stack) : { checks: [], refusing: [] }
  const checks = planChecks({
    kind: input.kind,
    targetVersion: input.targetVersion,
    updater: input.health,
    requires,
    verification,
    policy,
    active: active ? { id: active.id, kind: active.kind, toVersion: active.toVersion } : null,
  })
  // As on the web: an update needs fresh release information; a rollback goes back to what ran.
  const freshness = input.index && input.kind !== 'rollback' ? [checkReleaseIndexFresh(input.index)] : []
  return { checks: [...checks, ...freshness, ...stack.checks], refusing: new Set(stack.refusing) }
}

/**
 * The path of an update (or its rehearsal) over the verified releases on the channel, or why
 * there is none; a rollback goes straight to its target.
 */
export function cliPath(kind: PlanFacts['kind'], installed: string, target: string, releases: Release[], channel: Channel): { ok: true, path: string[] } | { ok: false, reason: string } {
  if (kind === 'rollback') return { ok: true, path: [target] }
  try {
    return { ok: true, path: computeUpgradePath(installed, target, releases.filter(r => r.verified && isReleaseOnChannel(r, channel))) }
  }
  catch (err) {
    if (err instanceof UpgradePathError) return { ok: false, reason: err.message }
    throw err
  }
}

/** Failing checks, and those of them no override lets through. */
export function failing({ checks, refusing }: CliPlanChecks): { failing: Check[], never: Check[] } {
  const failed = checks.filter(c => c.status === 'fail')
  return { failing: failed, never: failed.filter(c => NEVER_IGNORED.has(c.id) || refusing.has(c.id)) }
}
