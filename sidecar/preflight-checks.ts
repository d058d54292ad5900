/**
 * The plan's checks (shared/node/checks/plan.ts), judged again by the updater at the start of a
 * job's `preflight` on its own facts: what the web or the CLI showed the admin may be minutes old,
 * and a client may not have asked at all. A failing check stops the job before anything changes,
 * unless the job carries the admin's override (`ignoreChecks` with a reason), which is logged.
 * The running stack's health is left to the driver's own preflight, which waits for services
 * that are still starting.
 */
import { checkComposePolicy, describePolicyViolations, type ComposePolicyOptions } from '../shared/compose-policy'
import { failingChecks, NEVER_IGNORED, planChecks, type Verdict } from '../shared/node/checks/plan'
import { formatCheck } from '../shared/node/checks/types'
import { verifyRelease, type ReleaseKeys } from '../shared/release-verify'
import type { Job } from '../shared/schemas/job'
import type { ReleaseManifest } from '../shared/schemas/release'
import type { Driver, StepContext } from './drivers/types'
import type { ReleaseArchive } from './release-archive'
import { hostFactsOf } from './server'

export interface PreflightCheckDeps {
  driver: Driver
  archive: ReleaseArchive
  /** The keys that count now (configured, and learned by rotation). */
  releaseKeys: () => ReleaseKeys
  composePolicy: ComposePolicyOptions
}

/** Checks the driver's preflight judges itself, more patiently. */
const LEFT_TO_THE_DRIVER = new Set(['services'])

export async function runPreflightChecks(deps: PreflightCheckDeps, ctx: StepContext, job: Job): Promise<void> {
  // A restore puts back an archive, not a release: its preflight judges the archive (sidecar/backups.ts).
  if (job.kind === 'restore') return
  const { driver } = deps
  let verification: Verdict
  let requires: ReleaseManifest['requires'] | null = null
  try {
    // The release this hop installs: the target, or a required stop on the way to it.
    const artifacts = await deps.archive.artifacts(ctx.toVersion)
    const verified = verifyRelease({ ...artifacts, compose: ctx.compose, expectedVersion: ctx.toVersion }, deps.releaseKeys())
    verification = verified.ok ? { ok: true } : { ok: false, reason: verified.reason }
    if (verified.ok) requires = verified.manifest.requires ?? {}
  }
  catch (err) {
    verification = { ok: false, reason: `the updater keeps no copy of it: ${(err as Error).message}` }
  }
  const policy = checkComposePolicy(ctx.compose, deps.composePolicy)
  const checks = planChecks({
    kind: job.kind,
    targetVersion: ctx.toVersion,
    updater: {
      ok: true,
      health: { version: ctx.fromVersion, driver: driver.name, services: await driver.health(), backups: driver.capabilities.backups, rehearsals: driver.capabilities.rehearsals, host: await hostFactsOf(driver), indexSerial: null },
    },
    requires,
    verification,
    policy: policy.ok ? { ok: true } : { ok: false, reason: describePolicyViolations(policy.violations) },
    // This job is the active one: admission refused it while another was.
    active: null,
  })
  for (const check of checks) ctx.log(formatCheck(check))
  const failing = failingChecks(checks).filter(c => !LEFT_TO_THE_DRIVER.has(c.id))
  if (failing.length === 0) return
  const ids = failing.map(c => c.id).join(', ')
  if (job.override && !failing.some(c => NEVER_IGNORED.has(c.id))) {
    ctx.log(`ignoring the failing checks ${ids}, as ${job.requestedBy.email ?? job.requestedBy.via} asked: "${job.override.reason}"`)
    return
  }
  throw new Error(`failing checks: ${failing.map(c => `${c.id}: ${c.message}`).join('; ')}`)
}
