/**
 * Building a `POST /v1/jobs` body from release artifacts, the same way from the web and the CLI:
 * the manifest's exact bytes, its signature, the compose file, and for a rollback the signed
 * manifests the sidecar needs to check rollback floors. Node only.
 */
import type { ReleaseArtifacts } from './release-verify'
import type { JobRequest, SignedManifest } from './schemas/job'
import type { Release } from './schemas/release'

export function signedManifest(artifacts: Pick<ReleaseArtifacts, 'manifestBytes' | 'signature'>): SignedManifest {
  return { manifest: Buffer.from(artifacts.manifestBytes).toString('base64'), signature: artifacts.signature.trim() }
}

/**
 * What a rollback from `currentVersion` must send along: the running release and every release
 * it undoes that migrated data (the only ones with a floor). `undoes` comes from the shared rules.
 */
export function releasesToSend(kind: JobRequest['kind'], currentVersion: string, undoes: Release[]): string[] {
  if (kind !== 'rollback') return []
  return [...new Set([currentVersion, ...undoes.filter(r => r.migratesData).map(r => r.version)])]
}

export function jobRequestFor(target: ReleaseArtifacts & { expectedVersion: string }, job: Omit<JobRequest, 'targetVersion' | 'manifest' | 'signature' | 'compose' | 'releases'>, releases: Array<Pick<ReleaseArtifacts, 'manifestBytes' | 'signature'>> = []): JobRequest {
  return {
    ...job,
    targetVersion: target.expectedVersion,
    ...signedManifest(target),
    compose: target.compose,
    releases: releases.map(signedManifest),
  }
}
