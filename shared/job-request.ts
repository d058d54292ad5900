/**
 * Building a `POST /v1/jobs` body from release artifacts, the same way from the web and the CLI:
 * the manifest's exact bytes, its signature, the compose file, and for a rollback the signed
 * manifests the sidecar needs to check rollback floors. Node only.
 */
import { verifyManifest, type ReleaseArtifacts, type ReleaseKeys } from './release-verify'
import { artifactsOf, type ReleaseSource } from './releases/source'
import type { JobRequest, SignedManifest, SignedRelease } from './schemas/job'
import type { Release } from './schemas/release'

export function signedManifest(artifacts: Pick<ReleaseArtifacts, 'manifestBytes' | 'signature'>): SignedManifest {
  return { manifest: Buffer.from(artifacts.manifestBytes).toString('base64'), signature: artifacts.signature.trim() }
}

/**
 * What a rollback from `currentVersion` sends along for the sidecar to check floors with: the
 * manifests of the running release and of every release it undoes that migrated data (the only
 * ones with a floor), as the source has them, leaving out any whose signature does not verify
 * (the sidecar would refuse the job for it). `undoes` comes from the shared rules.
 */
export async function floorManifests(source: ReleaseSource, kind: JobRequest['kind'], currentVersion: string, undoes: Release[], publicKey: ReleaseKeys): Promise<ReleaseArtifacts[]> {
  if (kind !== 'rollback') return []
  const versions = [...new Set([currentVersion, ...undoes.filter(r => r.migratesData).map(r => r.version)])]
  return (await artifactsOf(source, versions)).filter(a => verifyManifest(a.manifestBytes, a.signature, publicKey).ok)
}

/** A release as a job carries it (a required upgrade stop): its signed manifest and its compose text. */
export function signedRelease(artifacts: Pick<ReleaseArtifacts, 'manifestBytes' | 'signature' | 'compose'>): SignedRelease {
  return { ...signedManifest(artifacts), compose: artifacts.compose }
}

/**
 * `stops`: the artifacts of the required upgrade stops before the target, in path order (the
 * updater verifies each and runs one hop per version); none when the target installs directly.
 */
export function jobRequestFor(target: ReleaseArtifacts & { expectedVersion: string }, job: Omit<JobRequest, 'targetVersion' | 'manifest' | 'signature' | 'compose' | 'releases' | 'stops'>, releases: Array<Pick<ReleaseArtifacts, 'manifestBytes' | 'signature'>> = [], stops: ReleaseArtifacts[] = []): JobRequest {
  return {
    ...job,
    targetVersion: target.expectedVersion,
    ...signedManifest(target),
    compose: target.compose,
    releases: releases.map(signedManifest),
    stops: stops.map(signedRelease),
  }
}
