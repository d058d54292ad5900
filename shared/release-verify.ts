/**
 * Release verification (node only): the manifest's Ed25519 signature against the pinned public
 * key, then the compose file against the manifest's sha256 and, when given, the compose policy.
 * Used by the web when it lists releases and before dispatch, by the sidecar before running a
 * job, and by the CLI.
 */
import { createHash, createPublicKey, verify, type KeyObject } from 'node:crypto'
import { checkComposePolicy, describePolicyViolations, type ComposePolicyOptions } from './compose-policy'
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

/** An Ed25519 signature (64 bytes) in its one base64 spelling: 86 characters and `==`. */
const CANONICAL_SIGNATURE_B64 = /^[A-Za-z0-9+/]{85}[AQgw]==$/

/**
 * The signature bytes, or null unless `signatureB64` is their canonical base64 (surrounding
 * whitespace aside, for the `.sig` file's newline). Buffer.from skips what it cannot read, so
 * `SIG + 'zz'` would otherwise pass as SIG: one signature has one spelling.
 */
export function decodeSignature(signatureB64: string): Buffer | null {
  const text = signatureB64.trim()
  if (!CANONICAL_SIGNATURE_B64.test(text)) return null
  const sig = Buffer.from(text, 'base64')
  return sig.length === 64 && sig.toString('base64') === text ? sig : null
}

/** One pinned key, or every trusted one (OWLAT_RELEASE_PUBLIC_KEYS, keys learned by rotation). */
export type ReleaseKeys = string | KeyObject | readonly (string | KeyObject)[]

function keyList(keys: ReleaseKeys): readonly (string | KeyObject)[] {
  return typeof keys === 'string' || !Array.isArray(keys) ? [keys as string | KeyObject] : keys
}

/** Ed25519 over the exact manifest bytes by any of the keys; false for any malformed, truncated or non-canonical signature. */
export function verifyManifestSignature(manifestBytes: Uint8Array, signatureB64: string, publicKey: ReleaseKeys): boolean {
  const sig = decodeSignature(signatureB64)
  if (!sig) return false
  return keyList(publicKey).some((key) => {
    try {
      return verify(null, manifestBytes, loadKey(key), sig)
    }
    catch {
      return false
    }
  })
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
export function verifyManifest(manifestBytes: Uint8Array, signature: string, publicKey: ReleaseKeys, expectedVersion?: string): VerifyResult {
  if (!verifyManifestSignature(manifestBytes, signature, publicKey)) {
    const count = keyList(publicKey).length
    return {
      ok: false,
      reason: count === 1
        ? 'release manifest signature does not verify against the pinned release key'
        : `release manifest is signed by none of the ${count} trusted release keys (an unknown key)`,
    }
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

/**
 * The signature, the compose file's sha256 and, with `policy`, the compose policy: a signed
 * release whose compose file the policy refuses is refused with the violations, never verified.
 */
export function verifyRelease(artifacts: ReleaseArtifacts, publicKey: ReleaseKeys, policy?: ComposePolicyOptions): VerifyResult {
  const verified = verifyManifest(artifacts.manifestBytes, artifacts.signature, publicKey, artifacts.expectedVersion)
  if (!verified.ok) return verified
  const { manifest } = verified
  const actual = sha256Hex(artifacts.compose)
  if (actual !== manifest.compose.sha256) {
    return { ok: false, reason: `compose file sha256 ${actual} does not match the manifest (${manifest.compose.sha256})` }
  }
  if (policy) {
    const judged = checkComposePolicy(artifacts.compose, policy)
    if (!judged.ok) return { ok: false, reason: describePolicyViolations(judged.violations) }
  }
  return { ok: true, manifest }
}
