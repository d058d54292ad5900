/**
 * Release verification (node only): the manifest's Ed25519 signature against the pinned public
 * key, then the compose file against the manifest's sha256. Used by the web before dispatch, by
 * the sidecar before running a job, and by the CLI.
 */
import { createHash, createPublicKey, verify, type KeyObject } from 'node:crypto'
import { releaseManifestSchema, type ReleaseManifest } from './schemas/release'

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex')
}

export type VerifyResult
  = | { ok: true, manifest: ReleaseManifest }
    | { ok: false, reason: string }

function loadKey(publicKeyPem: string | KeyObject): KeyObject {
  const key = typeof publicKeyPem === 'string' ? createPublicKey(publicKeyPem) : publicKeyPem
  if (key.asymmetricKeyType !== 'ed25519') throw new Error('release public key is not an Ed25519 key')
  return key
}

/** Ed25519 over the exact manifest bytes; false for any malformed or truncated signature. */
export function verifyManifestSignature(manifestBytes: Uint8Array, signatureB64: string, publicKey: string | KeyObject): boolean {
  const sig = Buffer.from(signatureB64.trim(), 'base64')
  // An Ed25519 signature is exactly 64 bytes; anything else is truncated or not a signature.
  if (sig.length !== 64) return false
  try {
    return verify(null, manifestBytes, loadKey(publicKey), sig)
  }
  catch {
    return false
  }
}

/** Parse `docker-compose-V.yml.sha256` (`<hex>  docker-compose-V.yml`). */
export function parseSha256File(text: string): { sha256: string, file: string } | null {
  const m = /^([a-f0-9]{64})\s+\*?(\S+)\s*$/.exec(text.trim())
  return m ? { sha256: m[1]!, file: m[2]! } : null
}

export interface ReleaseArtifacts {
  manifestBytes: Uint8Array
  signature: string
  compose: string
  /** When given, the version the caller expects the manifest to be for. */
  expectedVersion?: string
}

/** The manifest alone: its signature against the pinned key, its shape, and (when given) its version. */
export function verifyManifest(manifestBytes: Uint8Array, signature: string, publicKey: string | KeyObject, expectedVersion?: string): VerifyResult {
  if (!verifyManifestSignature(manifestBytes, signature, publicKey)) {
    return { ok: false, reason: 'release manifest signature does not verify against the pinned release key' }
  }
  let json: unknown
  try {
    json = JSON.parse(Buffer.from(manifestBytes).toString('utf8'))
  }
  catch {
    return { ok: false, reason: 'release manifest is not valid JSON' }
  }
  const parsed = releaseManifestSchema.safeParse(json)
  if (!parsed.success) {
    return { ok: false, reason: `release manifest is malformed: ${parsed.error.issues.map(i => `${i.path.join('.')}: ${i.message}`).join('; ')}` }
  }
  if (expectedVersion && parsed.data.version !== expectedVersion) {
    return { ok: false, reason: `release manifest is for ${parsed.data.version}, not ${expectedVersion}` }
  }
  return { ok: true, manifest: parsed.data }
}

export function verifyRelease(artifacts: ReleaseArtifacts, publicKey: string | KeyObject): VerifyResult {
  const verified = verifyManifest(artifacts.manifestBytes, artifacts.signature, publicKey, artifacts.expectedVersion)
  if (!verified.ok) return verified
  const { manifest } = verified
  const actual = sha256Hex(artifacts.compose)
  if (actual !== manifest.compose.sha256) {
    return { ok: false, reason: `compose file sha256 ${actual} does not match the manifest (${manifest.compose.sha256})` }
  }
  return { ok: true, manifest }
}
