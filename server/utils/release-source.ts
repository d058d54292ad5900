/**
 * Where releases come from. The `directory` source reads a folder of release artifacts (the
 * demo releases, air-gapped installs); a `github` source implements the same interface later.
 * Framework-independent: the config is passed in.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { artifactNames } from '../../shared/release-artifacts'
import { verifyRelease, type ReleaseArtifacts } from '../../shared/release-verify'
import { releaseManifestSchema, type Release, type ReleaseManifest } from '../../shared/schemas/release'
import { isVersion, sortVersionsDesc } from '../../shared/version'
import { renderNotes } from './markdown'

export interface ReleaseSource {
  readonly kind: 'directory' | 'github'
  /** Every release the source knows, newest first, each with its verification result. */
  listReleases(): Promise<Release[]>
  /** The exact artifacts to dispatch; throws `ReleaseNotFoundError`. Not verified here. */
  getArtifacts(version: string): Promise<ReleaseArtifacts>
}

export class ReleaseNotFoundError extends Error {
  constructor(readonly version: string, detail: string) {
    super(`release ${version} is not available: ${detail}`)
    this.name = 'ReleaseNotFoundError'
  }
}

const MANIFEST_FILE = /^release-(.+)\.json$/

export function toRelease(manifest: ReleaseManifest, verifyError: string | null): Release {
  return {
    version: manifest.version,
    channel: manifest.channel,
    publishedAt: manifest.publishedAt,
    severity: manifest.severity,
    notes: manifest.notes,
    notesHtml: renderNotes(manifest.notes),
    migratesData: manifest.migrations.migratesData,
    rollbackFloor: manifest.migrations.rollbackFloor,
    verified: verifyError === null,
    verifyError,
  }
}

export function createDirectoryReleaseSource(opts: { dir: string, publicKey: () => string }): ReleaseSource {
  const readArtifacts = (version: string): ReleaseArtifacts => {
    const names = artifactNames(version)
    const read = (name: string) => {
      const path = join(opts.dir, name)
      if (!existsSync(path)) throw new ReleaseNotFoundError(version, `${name} is missing from ${opts.dir}`)
      return readFileSync(path)
    }
    return {
      manifestBytes: read(names.manifest),
      signature: read(names.signature).toString('utf8'),
      compose: read(names.compose).toString('utf8'),
      expectedVersion: version,
    }
  }

  return {
    kind: 'directory',

    async listReleases() {
      if (!existsSync(opts.dir)) throw new Error(`release directory ${opts.dir} does not exist`)
      // Read the key first: without it nothing can be verified, which fails the whole check.
      const publicKey = opts.publicKey()
      const releases: Release[] = []
      for (const file of readdirSync(opts.dir)) {
        const version = MANIFEST_FILE.exec(file)?.[1]
        if (!version || !isVersion(version)) continue
        let manifest: ReleaseManifest
        try {
          manifest = releaseManifestSchema.parse(JSON.parse(readFileSync(join(opts.dir, file), 'utf8')))
        }
        catch (err) {
          // Without a readable manifest there is nothing to show (no channel, no notes).
          console.warn(`[releases] skipping ${file}: ${err instanceof Error ? err.message : String(err)}`)
          continue
        }
        let verifyError: string | null
        try {
          const result = verifyRelease(readArtifacts(version), publicKey)
          verifyError = result.ok ? null : result.reason
        }
        catch (err) {
          verifyError = err instanceof Error ? err.message : String(err)
        }
        releases.push(toRelease(manifest, verifyError))
      }
      return sortVersionsDesc(releases, r => r.version)
    },

    async getArtifacts(version) {
      return readArtifacts(version)
    },
  }
}

/** A configured source this build cannot use: every call fails with the reason. */
export function unavailableReleaseSource(kind: ReleaseSource['kind'], reason: string): ReleaseSource {
  const fail = async (): Promise<never> => {
    throw new Error(`release source "${kind}" is ${reason}`)
  }
  return { kind, listReleases: fail, getArtifacts: fail }
}
