/**
 * The signed release index: expiry, the serial and version ratchets, revocation, key rotation
 * (announce → trust → old key retired), a manifest that is not the listed one, and an index that
 * omits a release. Real Ed25519 keys and the release tooling's own writer.
 */
import { generateKeyPairSync } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { loadConfig } from '../../../shared/config'
import { checkReleaseIndexFresh } from '../../../shared/node/checks/release-index'
import { artifactNames, writeReleaseArtifacts } from '../../../shared/release-artifacts'
import {
  applyReleaseIndex, effectiveKeys, evaluateIndex, INDEX_FILE, INDEX_SIGNATURE_FILE, judgeAgainstIndex, nextIndex, readIndexFile,
  serializeIndex, signManifest, splitPemKeys, verifyReleaseIndex, type SignedIndex,
} from '../../../shared/release-index'
import { sha256Hex, verifyManifest } from '../../../shared/release-verify'
import { EMPTY_RELEASE_TRUST, type Release, type ReleaseIndex, type ReleaseTrust } from '../../../shared/schemas/release'

function keyPair() {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519')
  return {
    privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  }
}

const k1 = keyPair()
const k2 = keyPair()
const DAY = 24 * 60 * 60_000
const NOW = Date.parse('2026-12-01T00:00:00Z')

const manifestBytes = (version: string, notes = 'n') => Buffer.from(JSON.stringify({ version, notes }))

function makeIndex(serial: number, versions: string[], extra: Partial<ReleaseIndex> = {}, now = NOW): ReleaseIndex {
  const index = nextIndex(null, {
    now,
    manifests: versions.map(version => ({ manifest: { version, channel: 'stable', severity: 'normal' }, bytes: manifestBytes(version) })),
  })
  return { ...index, serial, ...extra }
}

function sign(index: ReleaseIndex, privateKey = k1.privateKey): SignedIndex {
  const bytes = serializeIndex(index)
  return { bytes, signature: signManifest(bytes, privateKey) }
}

const trustWith = (patch: Partial<ReleaseTrust>): ReleaseTrust => ({ ...EMPTY_RELEASE_TRUST, ...patch })

/** The trust an instance holds after the evaluation's patch is saved. */
function accept(trust: ReleaseTrust, evaluation: ReturnType<typeof evaluateIndex>): ReleaseTrust {
  expect(evaluation.error).toBeNull()
  return { ...trust, ...evaluation.patch }
}

function release(version: string, bytes = manifestBytes(version)): Release {
  return {
    version, channel: 'stable', publishedAt: '2026-11-01T00:00:00Z', severity: 'normal', notes: '', notesHtml: '',
    migratesData: false, rollbackFloor: null, verified: true, verifyError: null, manifestSha256: sha256Hex(bytes),
  }
}

describe('release index', () => {
  it('verifies a signed index, and refuses one signed by an unknown key or altered after signing', () => {
    const signed = sign(makeIndex(1, ['1.2.2']))
    expect(verifyReleaseIndex(signed, { keys: [k1.publicKey], highestSerial: null }, NOW)).toMatchObject({ ok: true, expired: false })
    expect(verifyReleaseIndex(signed, { keys: [k2.publicKey], highestSerial: null }, NOW))
      .toEqual({ ok: false, code: 'signature', reason: 'the release index is not signed by any trusted release key (1 trusted)' })
    const altered = Buffer.from(Buffer.from(signed.bytes).toString('utf8').replace('"serial": 1', '"serial": 9'))
    expect(verifyReleaseIndex({ ...signed, bytes: altered }, { keys: [k1.publicKey], highestSerial: null }, NOW).ok).toBe(false)
  })

  it('expires: past expiresAt it is flagged stale, and the blocking check fails with the date', () => {
    const index = makeIndex(1, ['1.2.2'])
    expect(Date.parse(index.expiresAt) - NOW).toBe(14 * DAY)
    const later = verifyReleaseIndex(sign(index), { keys: [k1.publicKey], highestSerial: null }, NOW + 14 * DAY)
    expect(later).toMatchObject({ ok: true, expired: true })
    const evaluation = evaluateIndex(sign(index), EMPTY_RELEASE_TRUST, [k1.publicKey], 'here', NOW + 15 * DAY)
    expect(evaluation).toMatchObject({ expired: true, error: null })
    const check = checkReleaseIndexFresh(evaluation)
    expect(check).toMatchObject({ id: 'release-index-fresh', status: 'fail', blocking: true })
    expect(check.message).toBe(`release information is stale since ${index.expiresAt} (index serial 1)`)
    expect(checkReleaseIndexFresh(evaluateIndex(sign(index), EMPTY_RELEASE_TRUST, [k1.publicKey], 'here', NOW)).status).toBe('ok')
    expect(checkReleaseIndexFresh({ index: null, expired: false, error: 'none served' }).status).toBe('fail')
  })

  it('ratchets the serial: a lower one is refused and recorded as a rollback attack; the stored index stays', () => {
    const trust = accept(EMPTY_RELEASE_TRUST, evaluateIndex(sign(makeIndex(5, ['1.3.0'])), EMPTY_RELEASE_TRUST, [k1.publicKey], 'here', NOW))
    expect(trust).toMatchObject({ highestSerial: 5, highestVersion: '1.3.0' })
    const replay = evaluateIndex(sign(makeIndex(4, ['1.3.0'])), trust, [k1.publicKey], 'GitHub releases of o/r', NOW + 1)
    expect(replay.error).toMatch(/serial 4, lower than 5 already seen.*rollback attack/)
    expect(replay.patch).toEqual({ rollbackRefusal: { at: NOW + 1, serial: 4, highestSerial: 5, where: 'GitHub releases of o/r' } })
    expect(replay.index?.serial).toBe(5)
    // The same serial with other content is no newer publication either.
    const twin = evaluateIndex(sign(makeIndex(5, ['1.3.0'], { revoked: [{ version: '1.3.0', reason: 'x', moveTo: null }] })), trust, [k1.publicKey], 'here', NOW)
    expect(twin.error).toMatch(/serial 5 like the one already accepted, but other content/)
    expect(twin.patch).toBeNull()
    // The same bytes again (a 200 without changes) are fine; a higher serial moves the ratchet.
    expect(evaluateIndex(sign(makeIndex(5, ['1.3.0'])), trust, [k1.publicKey], 'here', NOW).error).toBeNull()
    expect(evaluateIndex(sign(makeIndex(6, ['1.3.0', '1.3.1'])), trust, [k1.publicKey], 'here', NOW).patch).toMatchObject({ highestSerial: 6, highestVersion: '1.3.1' })
  })

  it('refuses an index that omits the newest release already seen (a stale list under a new serial)', () => {
    const trust = trustWith({ highestSerial: 3, highestVersion: '1.3.0' })
    const omits = evaluateIndex(sign(makeIndex(4, ['1.2.2'])), trust, [k1.publicKey], 'here', NOW)
    expect(omits.error).toMatch(/omits 1\.3\.0, the newest release already seen/)
    expect(omits.patch?.rollbackRefusal).toMatchObject({ serial: 4 })
  })

  it('installs only what the index lists, with the listed manifest, unrevoked (mix-and-match, omission, revocation)', () => {
    const index = makeIndex(1, ['1.2.2', '1.3.0'], { revoked: [{ version: '1.2.2', reason: 'loses mail on restart', moveTo: '1.3.0' }] })
    expect(judgeAgainstIndex(index, '1.3.0', sha256Hex(manifestBytes('1.3.0')))).toBeNull()
    expect(judgeAgainstIndex(index, '1.3.0', sha256Hex(manifestBytes('1.3.0', 'another build')))).toMatch(/is not the one the signed release index lists/)
    expect(judgeAgainstIndex(index, '1.4.0', sha256Hex(manifestBytes('1.4.0')))).toBe('release 1.4.0 is not in the signed release index (serial 1)')
    expect(judgeAgainstIndex(index, '1.2.2', sha256Hex(manifestBytes('1.2.2')))).toBe('release 1.2.2 is revoked: loses mail on restart')
    const judged = applyReleaseIndex([release('1.4.0'), release('1.3.0'), release('1.2.2'), { ...release('1.0.0'), verified: false, verifyError: 'bad signature' }], index, 'none')
    expect(judged.map(r => [r.version, r.verified, r.verifyError])).toEqual([
      ['1.4.0', false, 'release 1.4.0 is not in the signed release index (serial 1)'],
      ['1.3.0', true, null],
      ['1.2.2', false, 'release 1.2.2 is revoked: loses mail on restart'],
      ['1.0.0', false, 'bad signature'],
    ])
    // Without an index nothing is installable.
    expect(applyReleaseIndex([release('1.3.0')], null, 'no signed release index')[0]).toMatchObject({ verified: false, verifyError: 'no signed release index' })
  })

  it('rotates keys: announced by the current key → trusted and kept → the old key retired', () => {
    // 1. Signed by k1, announcing k2.
    let trust = accept(EMPTY_RELEASE_TRUST, evaluateIndex(sign(makeIndex(1, ['1.2.2'], { nextKeys: [k2.publicKey] })), EMPTY_RELEASE_TRUST, [k1.publicKey], 'here', NOW))
    expect(trust.learnedKeys).toEqual([k2.publicKey])
    // 2. Signed by k2 alone, which the configuration does not name: trusted from the store. It retires k1.
    trust = accept(trust, evaluateIndex(sign(makeIndex(2, ['1.2.2', '1.3.0'], { retiredKeys: [k1.publicKey] }), k2.privateKey), trust, [k1.publicKey], 'here', NOW))
    expect(trust.retiredKeys).toEqual([k1.publicKey])
    expect(effectiveKeys([k1.publicKey], trust.learnedKeys, trust.retiredKeys)).toEqual([k2.publicKey])
    // 3. The old key counts no more: an index or a manifest signed by it alone is refused.
    const byOld = evaluateIndex(sign(makeIndex(3, ['1.3.0'])), trust, [k1.publicKey], 'here', NOW)
    expect(byOld.error).toBe('the release index is not signed by any trusted release key (1 trusted)')
    const bytes = manifestBytes('1.3.0')
    const keys = effectiveKeys([k1.publicKey], trust.learnedKeys, trust.retiredKeys)
    expect(verifyManifest(bytes, signManifest(bytes, k1.privateKey), [...keys, keyPair().publicKey]))
      .toEqual({ ok: false, reason: 'release manifest is signed by none of the 2 trusted release keys (an unknown key)' })
    // An index cannot retire the key that signs it.
    const selfRetiring = evaluateIndex(sign(makeIndex(4, ['1.3.0'], { retiredKeys: [k2.publicKey] }), k2.privateKey), trust, [k1.publicKey], 'here', NOW)
    expect(selfRetiring.patch?.retiredKeys).toEqual([k1.publicKey])
  })

  it('takes several configured keys from OWLAT_RELEASE_PUBLIC_KEYS', () => {
    const both = `${k1.publicKey}${k2.publicKey}`
    expect(splitPemKeys(both)).toHaveLength(2)
    const config = loadConfig({ OWLAT_RELEASE_PUBLIC_KEYS: both, OWLAT_DATA_DIR: '/nonexistent' } as NodeJS.ProcessEnv)
    expect(config.releasePublicKeys().map(k => k.trim())).toEqual([k1.publicKey.trim(), k2.publicKey.trim()])
    expect(() => loadConfig({ OWLAT_RELEASE_PUBLIC_KEYS: 'nonsense', OWLAT_DATA_DIR: '/nonexistent' } as NodeJS.ProcessEnv).releasePublicKeys()).toThrow(/holds no PEM public key/)
  })
})

describe('release tooling writes the index', () => {
  let dir: string
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'owlat-index-'))
  })
  afterEach(() => rmSync(dir, { recursive: true, force: true }))

  it('adds each release it writes, with the manifest\'s sha256, and a rising serial', () => {
    for (const version of ['1.2.2', '1.3.0']) {
      writeReleaseArtifacts({
        dir,
        compose: 'services: {}\n',
        privateKey: k1.privateKey,
        manifest: {
          version, channel: 'stable', publishedAt: '2026-11-01T00:00:00Z', severity: 'normal', images: [],
          migrations: { migratesData: false, rollbackFloor: null }, notes: '',
        },
      })
    }
    const index = readIndexFile(dir)!
    expect(index.serial).toBe(2)
    expect(index.releases.map(r => [r.version, r.manifestSha256])).toEqual(['1.2.2', '1.3.0'].map(v => [v, sha256Hex(readFileSync(join(dir, artifactNames(v).manifest)))]))
    const signed = { bytes: readFileSync(join(dir, INDEX_FILE)), signature: readFileSync(join(dir, INDEX_SIGNATURE_FILE), 'utf8') }
    expect(verifyReleaseIndex(signed, { keys: [k1.publicKey], highestSerial: 2 })).toMatchObject({ ok: true, expired: false })
  })

  it('refuses a manifest whose version is not the one its file name or tag says', () => {
    const bytes = Buffer.from(JSON.stringify({
      version: '1.3.0', channel: 'stable', publishedAt: '2026-11-01T00:00:00Z', severity: 'normal', compose: { file: 'x', sha256: 'a'.repeat(64) },
      images: [], migrations: { migratesData: false, rollbackFloor: null }, notes: '',
    }))
    expect(verifyManifest(bytes, signManifest(bytes, k1.privateKey), k1.publicKey, '1.4.0')).toEqual({ ok: false, reason: 'release manifest is for 1.3.0, not 1.4.0' })
  })
})
