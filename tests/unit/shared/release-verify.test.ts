import { generateKeyPairSync } from 'node:crypto'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { artifactNames, writeReleaseArtifacts } from '../../../shared/release-artifacts'
import { parseSha256File, sha256Hex, verifyManifestSignature, verifyRelease } from '../../../shared/release-verify'

const keyPair = () => {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519')
  return {
    privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  }
}

describe('release verification', () => {
  const key = keyPair()
  const otherKey = keyPair()
  let dir: string
  let manifestBytes: Buffer
  let signature: string
  let compose: string

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'owlat-release-'))
    writeReleaseArtifacts({
      dir,
      compose: 'services:\n  web:\n    image: ghcr.io/owlat/web:1.3.0\n',
      privateKey: key.privatePem,
      manifest: {
        version: '1.3.0',
        channel: 'stable',
        publishedAt: '2026-11-01T10:00:00Z',
        severity: 'normal',
        images: [{ service: 'web', image: 'ghcr.io/owlat/web:1.3.0' }],
        migrations: { migratesData: false, rollbackFloor: null },
        notes: 'notes',
      },
    })
    const names = artifactNames('1.3.0')
    manifestBytes = readFileSync(join(dir, names.manifest))
    signature = readFileSync(join(dir, names.signature), 'utf8')
    compose = readFileSync(join(dir, names.compose), 'utf8')
  })

  it('accepts an untouched release', () => {
    const result = verifyRelease({ manifestBytes, signature, compose, expectedVersion: '1.3.0' }, key.publicPem)
    expect(result.ok).toBe(true)
    if (result.ok) expect(result.manifest.version).toBe('1.3.0')
  })

  it('refuses a tampered manifest', () => {
    const tampered = Buffer.from(manifestBytes.toString('utf8').replace('"normal"', '"security"'))
    const result = verifyRelease({ manifestBytes: tampered, signature, compose }, key.publicPem)
    expect(result).toEqual({ ok: false, reason: expect.stringContaining('signature does not verify') })
  })

  it('refuses a signature from another key', () => {
    expect(verifyManifestSignature(manifestBytes, signature, otherKey.publicPem)).toBe(false)
  })

  it('refuses a truncated or garbage signature', () => {
    expect(verifyManifestSignature(manifestBytes, signature.slice(0, 40), key.publicPem)).toBe(false)
    expect(verifyManifestSignature(manifestBytes, '', key.publicPem)).toBe(false)
    expect(verifyManifestSignature(manifestBytes, 'not base64 at all!!', key.publicPem)).toBe(false)
  })

  it('accepts only the canonical base64 spelling of a signature, so one signature has one spelling', () => {
    const sig = signature.trim()
    expect(verifyManifestSignature(manifestBytes, `${sig}\n`, key.publicPem)).toBe(true)
    // Buffer.from(…, 'base64') reads every one of these as the same 64 bytes.
    for (const altered of [`${sig}zz`, `${sig}AAAA`, `${sig}==`, sig.replace(/==$/, ''), `${sig.slice(0, 44)} ${sig.slice(44)}`, sig.replace(/[+/]/g, c => (c === '+' ? '-' : '_'))]) {
      if (altered === sig) continue
      expect(verifyManifestSignature(manifestBytes, altered, key.publicPem), altered).toBe(false)
    }
    // Non-zero padding bits decode to the same bytes too.
    const last = sig[85]!
    const sloppy = `${sig.slice(0, 85)}${String.fromCharCode(last.charCodeAt(0) + 1)}==`
    expect(Buffer.from(sloppy, 'base64').equals(Buffer.from(sig, 'base64'))).toBe(true)
    expect(verifyManifestSignature(manifestBytes, sloppy, key.publicPem)).toBe(false)
  })

  it('refuses a release whose compose file the compose policy refuses, with the violations', () => {
    const policy = { projectDir: '/opt/owlat' }
    expect(verifyRelease({ manifestBytes, signature, compose, expectedVersion: '1.3.0' }, key.publicPem, policy).ok).toBe(true)
    expect(verifyRelease({ manifestBytes, signature, compose, expectedVersion: '1.3.0' }, key.publicPem, { ...policy, allowedImagePrefixes: ['redis'] }))
      .toEqual({ ok: false, reason: expect.stringMatching(/^compose file violates the compose policy: service web: image "ghcr\.io\/owlat\/web:1\.3\.0" is not from an allowed registry/) })
  })

  it('refuses a compose file whose sha256 differs from the manifest', () => {
    const result = verifyRelease({ manifestBytes, signature, compose: `${compose}# extra\n` }, key.publicPem)
    expect(result).toEqual({ ok: false, reason: expect.stringContaining('sha256') })
  })

  it('refuses a manifest for another version than asked', () => {
    const result = verifyRelease({ manifestBytes, signature, compose, expectedVersion: '1.2.3' }, key.publicPem)
    expect(result).toEqual({ ok: false, reason: 'release manifest is for 1.3.0, not 1.2.3' })
  })

  it('writes a .sha256 file in the sha256sum format', () => {
    const names = artifactNames('1.3.0')
    const parsed = parseSha256File(readFileSync(join(dir, names.composeSha), 'utf8'))
    expect(parsed).toEqual({ sha256: sha256Hex(compose), file: names.compose })
  })

  it('refuses a key that is not Ed25519', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'pem' }).toString()
    expect(verifyManifestSignature(manifestBytes, signature, rsa)).toBe(false)
  })
})
