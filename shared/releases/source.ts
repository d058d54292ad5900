/**
 * Where releases come from, for the web and the CLI alike. The `directory` source reads a folder
 * of release artifacts (the demo releases, air-gapped installs); the `github` source reads
 * GitHub Releases and their assets. Node only; the config is passed in.
 */
import { open, readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { MAX_COMPOSE_BYTES, type ComposePolicyOptions } from '../compose-policy'
import { artifactNames } from '../release-artifacts'
import { effectiveKeys, INDEX_FILE, INDEX_SIGNATURE_FILE, MAX_INDEX_BYTES, type SignedIndex } from '../release-index'
import { sha256Hex, verifyRelease, type ReleaseArtifacts } from '../release-verify'
import { releaseManifestSchema, type Release, type ReleaseManifest } from '../schemas/release'
import { isPrerelease, isVersion, sortVersionsDesc, versionFromTag } from '../version'
import type { OwlatConfig } from '../config'
import { createGitHubClient, GitHubRateLimitError, type GitHubAsset, type GitHubClient, type GitHubRelease } from './github'
import { renderReleaseNotes } from './notes'

/** What the last good check left behind, so a source can skip work that would change nothing. */
export interface KnownReleases {
  releases: Release[]
  etag: string | null
  fingerprints: Record<string, string>
}

export interface ReleaseListing {
  /** Newest first, each with its verification result. */
  releases: Release[]
  /** Validator for a conditional request next time; null when the next one must be a full answer. */
  etag: string | null
  /** Per version, what its verification was computed from. */
  fingerprints: Record<string, string>
  /**
   * The signed release index as served, unjudged (the caller holds the ratchet and the keys);
   * null when the source has none; undefined when unchanged since `known` (a 304).
   */
  index?: SignedIndex | null
}

export interface ReleaseSource {
  readonly kind: 'directory' | 'github'
  /** Where it reads, for messages: `release folder /opt/owlat/releases`, `GitHub releases of owner/name`. */
  readonly where: string
  /** Every release the source knows; `known` lets it answer from the last check when nothing changed. */
  listReleases(known?: KnownReleases): Promise<ReleaseListing>
  /** The exact artifacts to dispatch; throws `ReleaseNotFoundError`. Not verified here. */
  getArtifacts(version: string): Promise<ReleaseArtifacts>
  /** The keys it verifies with (configured, plus any learned by rotation), as PEM. */
  keys(): Promise<string[]>
}

export class ReleaseNotFoundError extends Error {
  constructor(readonly version: string, detail: string) {
    super(`release ${version} is not available: ${detail}`)
    this.name = 'ReleaseNotFoundError'
  }
}

const MANIFEST_FILE = /^release-(.+)\.json$/

/** A manifest is a page of JSON (its notes are at most 100 000 characters); anything larger is not one. */
export const MAX_MANIFEST_BYTES = 512 * 1024
/** An Ed25519 signature in base64 is 88 characters; room for line ends, no more. */
export const MAX_SIGNATURE_BYTES = 1024

/** What a release source checks beside signatures: the compose policy of the instance that reads it. */
export interface ReleaseSourceOptions {
  /** The trusted keys (configured, and those learned by rotation), as PEM. */
  publicKey: () => string | readonly string[] | Promise<string | readonly string[]>
  /** When given, a signed release whose compose file the policy refuses is listed as refused with the violations. */
  policy?: ComposePolicyOptions
}

/**
 * Reads at most `limit` bytes of a file without blocking the event loop; a larger file is refused
 * without being read (a 300 MB "manifest" must cost nothing).
 */
export async function readBounded(path: string, limit: number): Promise<Buffer> {
  const file = await open(path, 'r')
  try {
    const { size } = await file.stat()
    if (size > limit) throw new Error(`${path} is ${size} bytes, more than the ${limit} a release file may have`)
    // Read one byte past the limit, so a file that grew since the stat is still caught.
    const buffer = Buffer.alloc(Math.min(size, limit) + 1)
    let length = 0
    for (;;) {
      const { bytesRead } = await file.read(buffer, length, buffer.length - length, length)
      if (bytesRead === 0) break
      length += bytesRead
      if (length === buffer.length) break
    }
    if (length > limit) throw new Error(`${path} is more than the ${limit} bytes a release file may have`)
    return buffer.subarray(0, length)
  }
  finally {
    await file.close()
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(() => true, () => false)
}

async function keysOf(opts: ReleaseSourceOptions): Promise<string[]> {
  const keys = await opts.publicKey()
  return typeof keys === 'string' ? [keys] : [...keys]
}

export function toRelease(manifest: ReleaseManifest, verifyError: string | null, manifestBytes?: Uint8Array): Release {
  return {
    ...(manifestBytes ? { manifestSha256: sha256Hex(manifestBytes) } : {}),
    version: manifest.version,
    channel: manifest.channel,
    publishedAt: manifest.publishedAt,
    severity: manifest.severity,
    notes: manifest.notes,
    notesHtml: renderReleaseNotes(manifest.notes, manifest.version),
    migratesData: manifest.migrations.migratesData,
    rollbackFloor: manifest.migrations.rollbackFloor,
    minimumFrom: manifest.minimumFrom ?? null,
    verified: verifyError === null,
    verifyError,
  }
}

export function createDirectoryReleaseSource(opts: ReleaseSourceOptions & { dir: string }): ReleaseSource {
  const readArtifacts = async (version: string): Promise<ReleaseArtifacts> => {
    const names = artifactNames(version)
    const read = async (name: string, limit: number) => {
      const path = join(opts.dir, name)
      if (!await exists(path)) throw new ReleaseNotFoundError(version, `${name} is missing from ${opts.dir}`)
      return readBounded(path, limit)
    }
    const [manifestBytes, signature, compose] = await Promise.all([
      read(names.manifest, MAX_MANIFEST_BYTES),
      read(names.signature, MAX_SIGNATURE_BYTES),
      read(names.compose, MAX_COMPOSE_BYTES),
    ])
    return { manifestBytes, signature: signature.toString('utf8'), compose: compose.toString('utf8'), expectedVersion: version }
  }

  return {
    kind: 'directory',
    where: `release folder ${opts.dir}`,

    async listReleases() {
      if (!await exists(opts.dir)) throw new Error(`release directory ${opts.dir} does not exist`)
      // Read the key first: without it nothing can be verified, which fails the whole check.
      const publicKey = await keysOf(opts)
      const releases = new Map<string, Release>()
      for (const file of (await readdir(opts.dir)).sort()) {
        const version = MANIFEST_FILE.exec(file)?.[1]
        if (!version || !isVersion(version)) continue
        let manifest: ReleaseManifest
        let manifestBytes: Buffer
        try {
          manifestBytes = await readBounded(join(opts.dir, file), MAX_MANIFEST_BYTES)
          manifest = releaseManifestSchema.parse(JSON.parse(manifestBytes.toString('utf8')))
        }
        catch (err) {
          // Without a readable manifest there is nothing to show (no channel, no notes).
          console.warn(`[releases] skipping ${file}: ${err instanceof Error ? err.message : String(err)}`)
          continue
        }
        // A manifest copied under another version's name says nothing about that version, and
        // listing it under its own would shadow the real file of that version.
        if (manifest.version !== version) {
          console.warn(`[releases] skipping ${file}: it is the manifest of ${manifest.version}, not of ${version}`)
          continue
        }
        let verifyError: string | null
        try {
          const result = verifyRelease(await readArtifacts(version), publicKey, opts.policy)
          verifyError = result.ok ? null : result.reason
        }
        catch (err) {
          verifyError = err instanceof Error ? err.message : String(err)
        }
        releases.set(version, toRelease(manifest, verifyError, manifestBytes))
      }
      const indexPath = join(opts.dir, INDEX_FILE)
      const signaturePath = join(opts.dir, INDEX_SIGNATURE_FILE)
      const index = await exists(indexPath) && await exists(signaturePath)
        ? { bytes: await readBounded(indexPath, MAX_INDEX_BYTES), signature: (await readBounded(signaturePath, MAX_SIGNATURE_BYTES)).toString('utf8') }
        : null
      // A folder costs nothing to read again: no validators to keep.
      return { releases: sortVersionsDesc([...releases.values()], r => r.version), etag: null, fingerprints: {}, index }
    },

    async getArtifacts(version) {
      return readArtifacts(version)
    },

    keys: () => keysOf(opts),
  }
}

/** A configured source this build cannot use: every call fails with the reason. */
export function unavailableReleaseSource(kind: ReleaseSource['kind'], reason: string): ReleaseSource {
  const fail = async (): Promise<never> => {
    throw new Error(`release source "${kind}" is ${reason}`)
  }
  return { kind, where: `release source "${kind}"`, listReleases: fail, getArtifacts: fail, keys: fail }
}

const DOWNLOAD_CONCURRENCY = 4

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}

/**
 * GitHub Releases: only the product's `vX.Y.Z[-pre]` tags, never drafts. Each release's
 * artifacts come from its assets and are verified like a folder's; a release whose assets are
 * unchanged since the last check keeps its result without being downloaded again.
 */
export function createGitHubReleaseSource(opts: ReleaseSourceOptions & { client: GitHubClient }): ReleaseSource {
  const { client } = opts

  const assetsOf = (release: GitHubRelease, version: string) => {
    const names = artifactNames(version)
    const find = (name: string) => release.assets.find(a => a.name === name)
    return { manifest: find(names.manifest), signature: find(names.signature), compose: find(names.compose), names }
  }

  async function download(assets: { manifest: GitHubAsset, signature: GitHubAsset, compose: GitHubAsset }, version: string): Promise<ReleaseArtifacts> {
    const [manifestBytes, signature, compose] = await Promise.all([
      client.downloadAsset(assets.manifest),
      client.downloadAsset(assets.signature),
      client.downloadAsset(assets.compose),
    ])
    return { manifestBytes, signature: signature.toString('utf8'), compose: compose.toString('utf8'), expectedVersion: version }
  }

  /** The key is part of it: a new pinned key must verify every release again. */
  function fingerprint(release: GitHubRelease, version: string, keyId: string): string {
    const { manifest, signature, compose } = assetsOf(release, version)
    const assets = [manifest, signature, compose].map(a => a ? [a.id, a.size, a.updated_at] : null)
    const basis = JSON.stringify([release.id, release.tag_name, release.prerelease, release.published_at, release.body ?? '', assets])
    return `${sha256Hex(basis).slice(0, 32)}|${keyId}`
  }

  /** Listed but never installable: what GitHub itself says about the release. */
  function unverified(release: GitHubRelease, version: string, reason: string): Release {
    const notes = release.body ?? ''
    return {
      version,
      channel: release.prerelease || isPrerelease(version) ? 'beta' : 'stable',
      publishedAt: release.published_at ?? release.created_at,
      severity: 'normal',
      notes,
      notesHtml: renderReleaseNotes(notes, version),
      migratesData: false,
      rollbackFloor: null,
      verified: false,
      verifyError: reason,
    }
  }

  /** `complete` is false when a download failed for a reason that may pass (timeout, 5xx). */
  async function toVerifiedRelease(release: GitHubRelease, version: string, publicKey: string[]): Promise<{ release: Release, complete: boolean }> {
    const { manifest, signature, compose, names } = assetsOf(release, version)
    if (!manifest || !signature || !compose) {
      const missing = [[manifest, names.manifest], [signature, names.signature], [compose, names.compose]].filter(([a]) => !a).map(([, n]) => n)
      return { release: unverified(release, version, `${missing.join(', ')} missing from the release's assets`), complete: true }
    }
    let artifacts: ReleaseArtifacts
    try {
      artifacts = await download({ manifest, signature, compose }, version)
    }
    catch (err) {
      // A rate limit stops the whole check (the cache is kept); other failures only this release.
      if (err instanceof GitHubRateLimitError) throw err
      return { release: unverified(release, version, `could not download the release's artifacts: ${errorMessage(err)}`), complete: false }
    }
    const result = verifyRelease(artifacts, publicKey, opts.policy)
    const verifyError = result.ok ? null : result.reason
    let parsed: ReleaseManifest | null
    try {
      parsed = releaseManifestSchema.parse(JSON.parse(Buffer.from(artifacts.manifestBytes).toString('utf8')))
    }
    catch {
      parsed = null
    }
    if (!parsed || parsed.version !== version) {
      return { release: unverified(release, version, verifyError ?? 'release manifest does not describe this release'), complete: true }
    }
    return { release: toRelease(parsed, verifyError, artifacts.manifestBytes), complete: true }
  }

  return {
    kind: 'github',
    where: `GitHub releases of ${client.repo}`,

    async listReleases(known) {
      // Read the key first: without it nothing can be verified, which fails the whole check.
      const publicKey = await keysOf(opts)
      // What a result was judged with: a new key or another policy must judge every release again.
      const keyId = sha256Hex(JSON.stringify([publicKey, opts.policy ?? null])).slice(0, 16)
      const knownFingerprints = known?.fingerprints ?? {}
      // A conditional request is only safe when the cached results were made with this key.
      const reusable = known !== undefined && known.releases.length > 0
        && Object.values(knownFingerprints).every(f => f.endsWith(`|${keyId}`))
      const answer = await client.listReleases(reusable ? known.etag : null)
      if (answer.notModified) {
        return { releases: known!.releases, etag: known!.etag, fingerprints: knownFingerprints }
      }

      const previous = new Map((known?.releases ?? []).map(r => [r.version, r]))
      const candidates = answer.releases.flatMap((release) => {
        const version = release.draft ? null : versionFromTag(release.tag_name)
        return version === null ? [] : [{ release, version }]
      })
      const releases: Release[] = []
      const fingerprints: Record<string, string> = {}
      let complete = true
      for (let i = 0; i < candidates.length; i += DOWNLOAD_CONCURRENCY) {
        const batch = candidates.slice(i, i + DOWNLOAD_CONCURRENCY)
        const results = await Promise.all(batch.map(async ({ release, version }) => {
          const print = fingerprint(release, version, keyId)
          const cached = previous.get(version)
          if (cached && knownFingerprints[version] === print) return { version, print, release: cached, complete: true }
          return { version, print, ...(await toVerifiedRelease(release, version, publicKey)) }
        }))
        for (const r of results) {
          releases.push(r.release)
          if (r.complete) fingerprints[r.version] = r.print
          else complete = false
        }
      }
      // Each publication attaches the index; the newest release that carries one has the newest.
      let index: SignedIndex | null = null
      for (const { release } of sortVersionsDesc(candidates, c => c.version)) {
        const bytes = release.assets.find(a => a.name === INDEX_FILE)
        const signature = release.assets.find(a => a.name === INDEX_SIGNATURE_FILE)
        if (!bytes || !signature) continue
        if (bytes.size > MAX_INDEX_BYTES || signature.size > MAX_SIGNATURE_BYTES) continue
        const [indexBytes, signatureBytes] = await Promise.all([client.downloadAsset(bytes), client.downloadAsset(signature)])
        index = { bytes: indexBytes, signature: signatureBytes.toString('utf8') }
        break
      }
      // Without an ETag the next check gets a full answer and retries what failed to download.
      return { releases: sortVersionsDesc(releases, r => r.version), etag: complete ? answer.etag : null, fingerprints, index }
    },

    async getArtifacts(version) {
      const release = await client.getReleaseByTag(`v${version}`)
      if (!release || release.draft) throw new ReleaseNotFoundError(version, `no published GitHub release is tagged v${version}`)
      const { manifest, signature, compose, names } = assetsOf(release, version)
      if (!manifest || !signature || !compose) {
        throw new ReleaseNotFoundError(version, `the GitHub release lacks ${[names.manifest, names.signature, names.compose].join(', ')}`)
      }
      return download({ manifest, signature, compose }, version)
    },

    keys: () => keysOf(opts),
  }
}

/**
 * The source the configuration names (OWLAT_RELEASE_SOURCE), as every process reads it; with
 * `policy`, releases the compose policy refuses are listed as refused.
 */
export function createReleaseSource(
  config: OwlatConfig,
  policy?: ComposePolicyOptions,
  learned?: () => Promise<{ learnedKeys: readonly string[], retiredKeys: readonly string[] }>,
): ReleaseSource {
  // With `learned` (the web's store), keys announced by a signed index count, retired ones do not.
  const publicKey = async () => {
    const configured = config.releasePublicKeys()
    if (!learned) return configured
    const trust = await learned()
    return effectiveKeys(configured, trust.learnedKeys, trust.retiredKeys)
  }
  const { repo, apiUrl, token } = config.github
  if (config.releaseSource === 'directory') return createDirectoryReleaseSource({ dir: config.releaseDir, publicKey, policy })
  // loadConfig refuses this; kept so a hand-built config still says why nothing is listed.
  if (!repo) return unavailableReleaseSource('github', 'missing OWLAT_GITHUB_REPO')
  return createGitHubReleaseSource({ client: createGitHubClient({ apiUrl, repo, token }), publicKey, policy })
}

/** The artifacts of each version the source has; one it does not list is left out. */
export async function artifactsOf(source: ReleaseSource, versions: string[]): Promise<ReleaseArtifacts[]> {
  const found = await Promise.all(versions.map(version => source.getArtifacts(version).catch((err: unknown) => {
    if (err instanceof ReleaseNotFoundError) return null
    throw err
  })))
  return found.filter((a): a is ReleaseArtifacts => a !== null)
}
