/**
 * Releases as the CLI reads them: through the shared release source the configuration names
 * (`directory` or `github`, as the web does), each verified here before anything is sent to the
 * updater, which checks it again.
 */
import { checkComposePolicy, type ComposePolicyOptions } from '../shared/compose-policy'
import { verifyRelease, type ReleaseArtifacts } from '../shared/release-verify'
import { createReleaseSource, type ReleaseSource } from '../shared/releases/source'
import type { ReleaseManifest, Release } from '../shared/schemas/release'
import type { CommandEnv } from './context'
import { CliError } from './errors'

export type ReleaseCheck
  = | { ok: true, artifacts: ReleaseArtifacts & { expectedVersion: string }, manifest: ReleaseManifest }
    | { ok: false, version: string, reason: string }

/** Listed as the web lists them: a release the compose policy refuses is listed as refused. */
export function releaseSource(ctx: CommandEnv): ReleaseSource {
  return createReleaseSource(ctx.config, ctx.policy)
}

/** Every release the source lists, newest first, each with its verification result. */
export async function listReleases(source: ReleaseSource): Promise<Release[]> {
  try {
    return (await source.listReleases()).releases
  }
  catch (err) {
    throw new CliError(`cannot read the releases (${source.where}): ${(err as Error).message}`)
  }
}

/** Signature, compose hash and compose policy of the artifacts as they are now: what the updater checks again. */
export async function checkRelease(source: ReleaseSource, version: string, publicKey: string, policy: ComposePolicyOptions): Promise<ReleaseCheck> {
  let artifacts: ReleaseArtifacts
  try {
    artifacts = await source.getArtifacts(version)
  }
  catch (err) {
    return { ok: false, version, reason: (err as Error).message }
  }
  const verified = verifyRelease({ ...artifacts, expectedVersion: version }, publicKey)
  if (!verified.ok) return { ok: false, version, reason: verified.reason }
  const policyResult = checkComposePolicy(artifacts.compose, policy)
  if (!policyResult.ok) return { ok: false, version, reason: `compose policy: ${policyResult.violations.join('; ')}` }
  return { ok: true, artifacts: { ...artifacts, expectedVersion: version }, manifest: verified.manifest }
}
