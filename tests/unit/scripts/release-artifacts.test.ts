import { execFileSync } from 'node:child_process'
import { generateKeyPairSync } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { INDEX_FILE, INDEX_SIGNATURE_FILE, verifyReleaseIndex } from '../../../shared/release-index'
import { buildReleaseArtifacts } from '../../../scripts/release-artifacts'
import { createDirectoryReleaseSource } from '../../../shared/releases/source'
import { parseSha256File, sha256Hex, verifyRelease } from '../../../shared/release-verify'
import { releaseManifestSchema } from '../../../shared/schemas/release'

const ROOT = resolve(import.meta.dirname, '../../..')
const DIGEST = `sha256:${'b'.repeat(64)}`
const keys = generateKeyPairSync('ed25519')
const publicKey = keys.publicKey.export({ type: 'spki', format: 'pem' }).toString()

let dir: string
let args: (extra?: string[], version?: string) => string[]

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'owlat-release-tool-'))
  writeFileSync(join(dir, 'key.pem'), keys.privateKey.export({ type: 'pkcs8', format: 'pem' }))
  writeFileSync(join(dir, 'template.yml'), 'name: owlat\nservices:\n  web:\n    image: ghcr.io/owlat/web:latest\n  updater:\n    image: ghcr.io/owlat/updater:latest\n')
  writeFileSync(join(dir, 'notes.md'), '## 1.4.0\n\n- Automations.\n')
  args = (extra = [], version = '1.4.0') => [
    version, '--template', join(dir, 'template.yml'), '--key', join(dir, 'key.pem'), '--out', join(dir, 'out'),
    '--image', `web=ghcr.io/owlat/web:${version}@${DIGEST}`, '--image', `updater=ghcr.io/owlat/updater:${version}@${DIGEST}`, ...extra,
  ]
})

afterEach(() => {
  rmSync(dir, { recursive: true, force: true })
})

describe('release:artifacts', () => {
  it('writes and signs the publication\'s index: the release added, revocations, an announced key, the lifetime', () => {
    buildReleaseArtifacts(args([], '1.3.0'))
    const next = generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }).toString()
    writeFileSync(join(dir, 'next.pub.pem'), next)
    buildReleaseArtifacts(args(['--revoke', '1.3.0=drops queued mail', '--next-key', join(dir, 'next.pub.pem'), '--index-ttl-days', '7']))
    const out = join(dir, 'out')
    const signed = { bytes: readFileSync(join(out, INDEX_FILE)), signature: readFileSync(join(out, INDEX_SIGNATURE_FILE), 'utf8') }
    const verdict = verifyReleaseIndex(signed, { keys: [publicKey], highestSerial: 1 })
    if (!verdict.ok) throw new Error(verdict.reason)
    expect(verdict.index).toMatchObject({
      serial: 2,
      releases: [{ version: '1.3.0', manifestSha256: sha256Hex(readFileSync(join(out, 'release-1.3.0.json'))) }, { version: '1.4.0' }],
      revoked: [{ version: '1.3.0', reason: 'drops queued mail', moveTo: '1.4.0' }],
      nextKeys: [next],
    })
    expect(Date.parse(verdict.index.expiresAt) - Date.parse(verdict.index.issuedAt)).toBe(7 * 24 * 60 * 60_000)
    expect(() => buildReleaseArtifacts(args(['--revoke', 'nonsense'], '1.5.0'))).toThrow(/--revoke must be VERSION=REASON/)
  })

  it('writes a pinned compose file, its sha256, a manifest and a signature that verify', async () => {
    const result = buildReleaseArtifacts(args(['--notes', join(dir, 'notes.md'), '--severity', 'security', '--migrates-data', '--rollback-floor', '1.3.0', '--published-at', '2026-12-01T10:00:00Z']))
    expect(result.files).toEqual(['docker-compose-1.4.0.yml', 'docker-compose-1.4.0.yml.sha256', 'release-1.4.0.json', 'release-1.4.0.json.sig', 'releases-index.json', 'releases-index.json.sig'])
    const out = join(dir, 'out')
    const compose = readFileSync(join(out, 'docker-compose-1.4.0.yml'), 'utf8')
    expect(parse(compose).services.web.image).toBe(`ghcr.io/owlat/web:1.4.0@${DIGEST}`)
    expect(parseSha256File(readFileSync(join(out, 'docker-compose-1.4.0.yml.sha256'), 'utf8'))).toEqual({ sha256: sha256Hex(compose), file: 'docker-compose-1.4.0.yml' })
    const manifest = releaseManifestSchema.parse(JSON.parse(readFileSync(join(out, 'release-1.4.0.json'), 'utf8')))
    expect(manifest).toMatchObject({
      version: '1.4.0',
      channel: 'stable',
      severity: 'security',
      publishedAt: '2026-12-01T10:00:00Z',
      migrations: { migratesData: true, rollbackFloor: '1.3.0' },
      notes: '## 1.4.0\n\n- Automations.\n',
      images: [{ service: 'web', image: `ghcr.io/owlat/web:1.4.0@${DIGEST}` }, { service: 'updater', image: `ghcr.io/owlat/updater:1.4.0@${DIGEST}` }],
    })
    expect(verifyRelease({
      manifestBytes: readFileSync(join(out, 'release-1.4.0.json')),
      signature: readFileSync(join(out, 'release-1.4.0.json.sig'), 'utf8'),
      compose,
      expectedVersion: '1.4.0',
    }, publicKey)).toMatchObject({ ok: true })
    // What the directory source (air-gapped installs) reads.
    const { releases } = await createDirectoryReleaseSource({ dir: out, publicKey: () => publicKey }).listReleases()
    expect(releases).toMatchObject([{ version: '1.4.0', verified: true, severity: 'security', migratesData: true }])
  })

  it('signs a required upgrade stop and the host requirements into the manifest, and the source lists the stop', async () => {
    buildReleaseArtifacts(args(['--minimum-from', '1.3.0', '--requires-engine', '24.0.0', '--requires-compose', '2.20.0', '--requires-updater', '1.3.0']))
    const manifest = releaseManifestSchema.parse(JSON.parse(readFileSync(join(dir, 'out', 'release-1.4.0.json'), 'utf8')))
    expect(manifest.minimumFrom).toBe('1.3.0')
    expect(manifest.requires).toEqual({ updater: '1.3.0', engine: '24.0.0', compose: '2.20.0' })
    const { releases } = await createDirectoryReleaseSource({ dir: join(dir, 'out'), publicKey: () => publicKey }).listReleases()
    expect(releases).toMatchObject([{ version: '1.4.0', verified: true, minimumFrom: '1.3.0' }])
  })

  it('leaves minimumFrom and requires out unless asked, and refuses a stop that is not older', () => {
    buildReleaseArtifacts(args())
    const manifest = JSON.parse(readFileSync(join(dir, 'out', 'release-1.4.0.json'), 'utf8'))
    expect(manifest).not.toHaveProperty('minimumFrom')
    expect(manifest).not.toHaveProperty('requires')
    expect(() => buildReleaseArtifacts(args(['--force', '--minimum-from', '1.4.0']))).toThrow(/--minimum-from 1\.4\.0 must be older than the release 1\.4\.0/)
    expect(() => buildReleaseArtifacts(args(['--force', '--minimum-from', '1.3']))).toThrow(/--minimum-from "1\.3" is not a semver version/)
  })

  it('puts pre-releases on the beta channel and refuses them on stable', () => {
    buildReleaseArtifacts(args([], '1.5.0-beta.2'))
    expect(JSON.parse(readFileSync(join(dir, 'out', 'release-1.5.0-beta.2.json'), 'utf8')).channel).toBe('beta')
    expect(() => buildReleaseArtifacts(args(['--channel', 'stable'], '1.5.0-beta.3'))).toThrow(/pre-release: it can only be published on the beta channel/)
  })

  it.each(['1.4', 'v1.4.0', 'latest', '1.4.0.1'])('refuses the version %s', (version) => {
    expect(() => buildReleaseArtifacts(args([], version))).toThrow(new RegExp(`VERSION "${version.replace(/\./g, '\\.')}" is not a semver version`))
  })

  it('refuses an image without a digest, given or left in the template', () => {
    const noDigest = [args()[0]!, ...args().slice(1).map(a => a.replace(`@${DIGEST}`, ''))]
    expect(() => buildReleaseArtifacts(noDigest)).toThrow(/--image web: ghcr\.io\/owlat\/web:1\.4\.0 is not pinned by a digest/)
    const onlyWeb = ['1.4.0', '--template', join(dir, 'template.yml'), '--key', join(dir, 'key.pem'), '--out', join(dir, 'out'), '--image', `web=ghcr.io/owlat/web:1.4.0@${DIGEST}`]
    expect(() => buildReleaseArtifacts(onlyWeb)).toThrow(/service "updater" image ghcr\.io\/owlat\/updater:latest has no digest/)
    expect(() => buildReleaseArtifacts(args(['--image', `mta=ghcr.io/owlat/mta@${DIGEST}`]))).toThrow(/the template has no service "mta"/)
  })

  it('refuses a compose file the updater\'s policy would refuse, and never re-signs a version', () => {
    writeFileSync(join(dir, 'template.yml'), 'services:\n  web:\n    image: x\n    privileged: true\n  updater:\n    image: y\n')
    expect(() => buildReleaseArtifacts(args())).toThrow(/breaks the compose policy: .*privileged/)
    writeFileSync(join(dir, 'template.yml'), 'services:\n  web:\n    image: x\n  updater:\n    image: y\n')
    buildReleaseArtifacts(args())
    expect(() => buildReleaseArtifacts(args())).toThrow(/already exists/)
    expect(() => buildReleaseArtifacts(args(['--force']))).not.toThrow()
  })

  it('runs as the npm script: exit 0 with the files, exit 1 and one reason otherwise', () => {
    const run = (argv: string[]) => {
      try {
        return { code: 0, out: execFileSync(process.execPath, ['--import', 'tsx', 'scripts/release-artifacts.ts', ...argv], { cwd: ROOT, encoding: 'utf8', stdio: 'pipe' }) }
      }
      catch (err) {
        const e = err as { status: number, stderr: string }
        return { code: e.status, out: e.stderr }
      }
    }
    const ok = run(args())
    expect(ok.code).toBe(0)
    expect(ok.out).toContain(join(dir, 'out', 'release-1.4.0.json.sig'))
    const bad = run(args([], 'one.two'))
    expect(bad.code).toBe(1)
    expect(bad.out).toMatch(/^release:artifacts: VERSION "one\.two" is not a semver version/)
  })
})
