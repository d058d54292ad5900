/**
 * The signed release index (DESIGN.md, release artifacts): what a publication vouches for as a
 * whole. Writing and signing it (release tooling, the demo releases), verifying it against the
 * trusted keys with the ratchet (a lower serial than one already seen is a rollback attack), its
 * expiry (a frozen list), and judging a manifest against it (listed, same sha256, not revoked).
 * Key rotation: an index may announce keys trusted from then on and retire others. Node only.
 */
import { createPrivateKey, createPublicKey, sign, type KeyObject } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { sha256Hex, verifyManifestSignature } from './release-verify'
import { releaseIndexSchema, type Release, type ReleaseIndex, type ReleaseManifest, type ReleaseTrust } from './schemas/release'
import { compareVersions } from './version'

export const INDEX_FILE = 'releases-index.json'
export const INDEX_SIGNATURE_FILE = 'releases-index.json.sig'
/** How long an index is good for unless the publisher says otherwise. */
export const DEFAULT_INDEX_TTL_MS = 14 * 24 * 60 * 60_000
/** Thousands of releases fit; a larger "index" is not one and is never read whole. */
export const MAX_INDEX_BYTES = 4 * 1024 * 1024

/** Base64 Ed25519 signature of exact bytes (manifests and indexes alike). */
export function signManifest(bytes: Uint8Array, privateKey: string | KeyObject): string {
  const key = typeof privateKey === 'string' ? createPrivateKey(privateKey) : privateKey
  return sign(null, bytes, key).toString('base64')
}

/** The index as served: its exact bytes and the base64 signature over them. */
export interface SignedIndex {
  bytes: Uint8Array
  signature: string
}

/** A key's identity whatever its PEM spelling: the sha256 of its SPKI DER; null when it is no Ed25519 key. */
export function keyId(pem: string | KeyObject): string | null {
  try {
    const key = typeof pem === 'string' ? createPublicKey(pem) : pem
    if (key.asymmetricKeyType !== 'ed25519') return null
    return sha256Hex(key.export({ type: 'spki', format: 'der' }))
  }
  catch {
    return null
  }
}

/** Several PEM public keys in one text (OWLAT_RELEASE_PUBLIC_KEYS), in order. */
export function splitPemKeys(text: string): string[] {
  return [...text.matchAll(/-----BEGIN PUBLIC KEY-----[\s\S]*?-----END PUBLIC KEY-----/g)].map(m => `${m[0]}\n`)
}

/** The last answer of `effectiveKeys` and its inputs: every status read asks, and parsing each key is the cost. */
let lastKeys: { inputs: string, keys: string[] } | null = null

/** The keys that count: configured and learned by rotation, minus the retired ones; one per identity. */
export function effectiveKeys(configured: readonly string[], learned: readonly string[], retired: readonly string[]): string[] {
  const inputs = [configured.join('\0'), learned.join('\0'), retired.join('\0')].join('\u0001')
  if (lastKeys?.inputs === inputs) return [...lastKeys.keys]
  const keys = keysThatCount(configured, learned, retired)
  lastKeys = { inputs, keys }
  return [...keys]
}

function keysThatCount(configured: readonly string[], learned: readonly string[], retired: readonly string[]): string[] {
  const retiredIds = new Set(retired.map(k => keyId(k)))
  const seen = new Set<string>()
  const keys: string[] = []
  for (const key of [...configured, ...learned]) {
    const id = keyId(key)
    if (!id || retiredIds.has(id) || seen.has(id)) continue
    seen.add(id)
    keys.push(key)
  }
  return keys
}

export interface IndexTrust {
  /** The keys an index (and a manifest) may be signed by. */
  keys: readonly string[]
  /** The highest serial this instance has accepted; null when it has seen none. */
  highestSerial: number | null
}

export type IndexVerdict
  = | {
    ok: true
    index: ReleaseIndex
    /** Past its `expiresAt`: listed, but no update starts on it without an override. */
    expired: boolean
    /** The key that signed it. */
    signedBy: string
  }
  | { ok: false, code: 'malformed' | 'signature' | 'rollback', reason: string, serial?: number }

/** Signature against the trusted keys, shape, then the ratchet. Expiry is reported, not refused. */
export function verifyReleaseIndex(signed: SignedIndex, trust: IndexTrust, now = Date.now()): IndexVerdict {
  const signedBy = trust.keys.find(key => verifyManifestSignature(signed.bytes, signed.signature, key))
  if (!signedBy) {
    return { ok: false, code: 'signature', reason: `the release index is not signed by any trusted release key (${trust.keys.length} trusted)` }
  }
  let index: ReleaseIndex
  try {
    index = releaseIndexSchema.parse(JSON.parse(Buffer.from(signed.bytes).toString('utf8')))
  }
  catch (err) {
    return { ok: false, code: 'malformed', reason: `the release index is malformed: ${err instanceof Error ? err.message : String(err)}` }
  }
  if (trust.highestSerial !== null && index.serial < trust.highestSerial) {
    return {
      ok: false,
      code: 'rollback',
      serial: index.serial,
      reason: `the release index has serial ${index.serial}, lower than ${trust.highestSerial} already seen: an old index is being replayed (rollback attack)`,
    }
  }
  return { ok: true, index, expired: Date.parse(index.expiresAt) <= now, signedBy }
}

/** Why the index does not vouch for this manifest; null when it does. */
export function judgeAgainstIndex(index: ReleaseIndex, version: string, manifestSha256: string): string | null {
  const revoked = index.revoked.find(r => r.version === version)
  if (revoked) return `release ${version} is revoked: ${revoked.reason}`
  const entry = index.releases.find(r => r.version === version)
  if (!entry) return `release ${version} is not in the signed release index (serial ${index.serial})`
  if (entry.manifestSha256 !== manifestSha256) {
    return `the manifest of ${version} (sha256 ${manifestSha256}) is not the one the signed release index lists (${entry.manifestSha256})`
  }
  return null
}

/**
 * The releases as the index judges them: one it does not list, lists with another manifest, or
 * revokes is refused with the reason. Without a usable index nothing is installable.
 */
export function applyReleaseIndex(releases: readonly Release[], index: ReleaseIndex | null, whyNone: string): Release[] {
  return releases.map((release) => {
    if (!release.verified) return release
    const reason = !index
      ? whyNone
      : release.manifestSha256 ? judgeAgainstIndex(index, release.version, release.manifestSha256) : `release ${release.version} has no manifest digest to check against the release index`
    return reason ? { ...release, verified: false, verifyError: reason } : release
  })
}

export function serializeIndex(index: ReleaseIndex): Buffer {
  return Buffer.from(`${JSON.stringify(releaseIndexSchema.parse(index), null, 2)}\n`)
}

export interface IndexUpdate {
  /** Releases to add or replace (by version). */
  manifests?: { manifest: Pick<ReleaseManifest, 'version' | 'channel' | 'severity'>, bytes: Uint8Array }[]
  revoke?: ReleaseIndex['revoked']
  nextKeys?: string[]
  retiredKeys?: string[]
  ttlMs?: number
  now?: number
}

/** The next index: the previous one's releases with the update applied, the serial one higher. */
export function nextIndex(previous: ReleaseIndex | null, update: IndexUpdate): ReleaseIndex {
  const now = update.now ?? Date.now()
  const releases = new Map((previous?.releases ?? []).map(r => [r.version, r]))
  for (const { manifest, bytes } of update.manifests ?? []) {
    releases.set(manifest.version, { version: manifest.version, channel: manifest.channel, severity: manifest.severity, manifestSha256: sha256Hex(bytes) })
  }
  const revoked = new Map((previous?.revoked ?? []).map(r => [r.version, r]))
  for (const r of update.revoke ?? []) revoked.set(r.version, r)
  return releaseIndexSchema.parse({
    serial: (previous?.serial ?? 0) + 1,
    issuedAt: new Date(now).toISOString(),
    expiresAt: new Date(now + (update.ttlMs ?? DEFAULT_INDEX_TTL_MS)).toISOString(),
    releases: [...releases.values()],
    revoked: [...revoked.values()],
    nextKeys: update.nextKeys ?? previous?.nextKeys ?? [],
    retiredKeys: update.retiredKeys ?? previous?.retiredKeys ?? [],
  })
}

/** Reads a folder's index without judging it (the publisher's own tooling); null when there is none. */
export function readIndexFile(dir: string): ReleaseIndex | null {
  const path = join(dir, INDEX_FILE)
  if (!existsSync(path)) return null
  return releaseIndexSchema.parse(JSON.parse(readFileSync(path, 'utf8')))
}

/** Writes the index and its signature into `dir`; returns what was written. */
export function writeSignedIndex(dir: string, index: ReleaseIndex, privateKey: string | KeyObject, mode?: number): SignedIndex & { index: ReleaseIndex } {
  const bytes = serializeIndex(index)
  const signature = signManifest(bytes, privateKey)
  mkdirSync(dir, { recursive: true })
  const options = mode === undefined ? undefined : { mode }
  writeFileSync(join(dir, INDEX_FILE), bytes, options)
  writeFileSync(join(dir, INDEX_SIGNATURE_FILE), `${signature}\n`, options)
  return { bytes, signature, index }
}

/** Publishes an update of the folder's index: read, apply, bump the serial, sign. */
export function updateIndexIn(dir: string, update: IndexUpdate, privateKey: string | KeyObject, mode?: number): ReleaseIndex {
  return writeSignedIndex(dir, nextIndex(readIndexFile(dir), update), privateKey, mode).index
}

export interface IndexEvaluation {
  /** The index releases are judged by: the one just accepted, else the last one accepted (null: none). */
  index: ReleaseIndex | null
  expired: boolean
  /** Why the served index was not accepted (or none was served); null when it was. */
  error: string | null
  /** What to keep in the store; null when nothing changes. */
  patch: Partial<ReleaseTrust> | null
}

function newestVersion(versions: readonly string[]): string | null {
  return versions.reduce<string | null>((best, v) => (best === null || compareVersions(v, best) > 0 ? v : best), null)
}

/**
 * The last judgement of a stored index and what it was made of: every status read asks again, and
 * parsing keys and checking a signature on each would cost more than the rest of the read.
 */
let lastStored: { inputs: readonly string[], verdict: IndexVerdict } | null = null

/** The last accepted index, judged again with today's keys (a retired key's index no longer counts). */
export function storedIndex(trust: ReleaseTrust, configuredKeys: readonly string[], now = Date.now()): IndexVerdict | null {
  if (!trust.indexText || !trust.indexSignature) return null
  const inputs = [trust.indexText, trust.indexSignature, configuredKeys.join('\0'), trust.learnedKeys.join('\0'), trust.retiredKeys.join('\0')]
  let verdict = lastStored && lastStored.inputs.every((value, i) => value === inputs[i]) ? lastStored.verdict : null
  if (!verdict) {
    const keys = effectiveKeys(configuredKeys, trust.learnedKeys, trust.retiredKeys)
    verdict = verifyReleaseIndex({ bytes: Buffer.from(trust.indexText, 'utf8'), signature: trust.indexSignature }, { keys, highestSerial: null }, now)
    lastStored = { inputs, verdict }
  }
  // Only expiry moves with the clock.
  return verdict.ok ? { ...verdict, expired: Date.parse(verdict.index.expiresAt) <= now } : verdict
}

/**
 * Judges the index a source served against what this instance learned: signature by a trusted
 * key, the serial ratchet, the version ratchet (an index that omits the newest release already
 * seen is an old one), then learns its announced and retired keys. `served` undefined: the
 * source said nothing changed.
 */
export function evaluateIndex(served: SignedIndex | null | undefined, trust: ReleaseTrust, configuredKeys: readonly string[], where: string, now = Date.now()): IndexEvaluation {
  const previous = storedIndex(trust, configuredKeys, now)
  const fallback = previous?.ok ? previous : null
  const keep = (error: string | null, patch: Partial<ReleaseTrust> | null = null): IndexEvaluation => ({
    index: fallback?.index ?? null,
    expired: fallback ? fallback.expired : false,
    error,
    patch,
  })
  if (served === undefined) return keep(null)
  if (served === null) return keep(`${where} serves no signed release index (${INDEX_FILE})`)

  const keys = effectiveKeys(configuredKeys, trust.learnedKeys, trust.retiredKeys)
  const verdict = verifyReleaseIndex(served, { keys, highestSerial: trust.highestSerial }, now)
  if (!verdict.ok) {
    if (verdict.code !== 'rollback') return keep(verdict.reason)
    return keep(verdict.reason, { rollbackRefusal: { at: now, serial: verdict.serial!, highestSerial: trust.highestSerial!, where } })
  }
  const text = Buffer.from(served.bytes).toString('utf8')
  if (trust.highestSerial === verdict.index.serial && trust.indexText !== null && trust.indexText !== text) {
    return keep(`the release index has serial ${verdict.index.serial} like the one already accepted, but other content: refused`)
  }
  const listed = newestVersion([...verdict.index.releases.map(r => r.version), ...verdict.index.revoked.map(r => r.version)])
  if (trust.highestVersion && (listed === null || compareVersions(listed, trust.highestVersion) < 0)) {
    return keep(`the release index (serial ${verdict.index.serial}) omits ${trust.highestVersion}, the newest release already seen: an old list is being served`,
      { rollbackRefusal: { at: now, serial: verdict.index.serial, highestSerial: trust.highestSerial ?? verdict.index.serial, where } })
  }
  // Rotation: keys the current key announces are trusted from now on; the ones it retires are not.
  const signerId = keyId(verdict.signedBy)
  const retiredKeys = [...trust.retiredKeys]
  for (const key of verdict.index.retiredKeys) {
    const id = keyId(key)
    if (id && id !== signerId && !retiredKeys.some(k => keyId(k) === id)) retiredKeys.push(key)
  }
  const learnedKeys = [...trust.learnedKeys]
  for (const key of verdict.index.nextKeys) {
    const id = keyId(key)
    if (id && !retiredKeys.some(k => keyId(k) === id) && !learnedKeys.some(k => keyId(k) === id)) learnedKeys.push(key)
  }
  return {
    index: verdict.index,
    expired: verdict.expired,
    error: null,
    patch: {
      highestSerial: verdict.index.serial,
      highestVersion: newestVersion([...(trust.highestVersion ? [trust.highestVersion] : []), ...(listed ? [listed] : [])]),
      indexText: text,
      indexSignature: served.signature.trim(),
      learnedKeys,
      retiredKeys,
    },
  }
}
