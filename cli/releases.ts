/**
 * Releases as the CLI reads them: through the shared release source the configuration names
 * (`directory` or `github`, as the web does), each verified here before anything is sent to the
 * updater, which checks it again.
 */
import { checkComposePolicy, type ComposePolicyOptions } from '../shared/compose-policy'
import type { IndexFreshnessInput } from '../shared/node/checks/release-index'
import { applyReleaseIndex, INDEX_FILE, verifyReleaseIndex } from '../shared/release-index'
import { verifyRelease, type ReleaseArtifacts } from '../shared/release-verify'
import { createReleaseSource, type ReleaseSource } from '../shared/releases/source'
import type { SignedIndexBody } from '../shared/schemas/job'
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

export interface JudgedReleases {
  /** Newest first; one the signed index does not list (or revokes, or lists with another manifest) is refused. */
  releases: Release[]
  /** The index as served, sent with a job for the updater to judge against its own ratchet; null when there is none. */
  index: SignedIndexBody | null
  /** The index as judged here (signature, expiry), for the plan's freshness check. */
  freshness: IndexFreshnessInput
}

/**
 * Every release the source lists, judged as the web judges them: by signature, then by the signed
 * index the source serves. The CLI keeps no ratchet of its own: the updater holds it.
 */
export async function listJudgedReleases(source: ReleaseSource): Promise<JudgedReleases> {
  let listing: Awaited<ReturnType<ReleaseSource['listReleases']>>
  try {
    listing = await source.listReleases()
  }
  catch (err) {
    throw new CliError(`cannot read the releases (${source.where}): ${(err as Error).message}`)
  }
  if (!listing.index) {
    const error = `${source.where} serves no signed release index (${INDEX_FILE})`
    return { releases: applyReleaseIndex(listing.releases, null, error), index: null, freshness: { index: null, expired: false, error } }
  }
  const verdict = verifyReleaseIndex(listing.index, { keys: await source.keys(), highestSerial: null })
  const index = { text: Buffer.from(listing.index.bytes).toString('utf8'), signature: listing.index.signature.trim() }
  if (!verdict.ok) return { releases: applyReleaseIndex(listing.releases, null, verdict.reason), index, freshness: { index: null, expired: false, error: verdict.reason } }
  return { releases: applyReleaseIndex(listing.releases, verdict.index, ''), index, freshness: { index: verdict.index, expired: verdict.expired, error: null } }
}

/** Every release the source lists, newest first, each with its verification result. */
export async function listReleases(source: ReleaseSource): Promise<Release[]> {
  return (await listJudgedReleases(source)).releases
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
