/**
 * Writes one release's artifacts (DESIGN.md): the pinned compose file, its `.sha256`, the
 * manifest and its Ed25519 signature. Used by the demo releases made at first start, by tests
 * and by the maintainers' release tooling. Node only.
 */
import type { KeyObject } from 'node:crypto'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { ensurePrivateDir, PRIVATE_FILE_MODE } from './node/private-files'
import { signManifest, updateIndexIn, type IndexUpdate } from './release-index'
import { sha256Hex } from './release-verify'
import { releaseManifestSchema, type ReleaseManifest } from './schemas/release'

export function artifactNames(version: string) {
  return {
    compose: `docker-compose-${version}.yml`,
    composeSha: `docker-compose-${version}.yml.sha256`,
    manifest: `release-${version}.json`,
    signature: `release-${version}.json.sig`,
  }
}

export { signManifest }

export interface WriteReleaseInput {
  dir: string
  compose: string
  privateKey: string | KeyObject
  manifest: Omit<ReleaseManifest, 'compose'>
  /** Owner-only folder and files (0700/0600), for a folder inside a data dir; public artifacts otherwise. */
  private?: boolean
  /** False: leave the folder's signed release index alone (a test forging a publication). Default: add the release to it. */
  index?: boolean
  /** What else this publication's index says: revocations, announced or retired keys, its lifetime. */
  indexUpdate?: Omit<IndexUpdate, 'manifests'>
}

/** Returns the manifest written. Throws when the manifest would not pass the schema. */
export function writeReleaseArtifacts(input: WriteReleaseInput): ReleaseManifest {
  const names = artifactNames(input.manifest.version)
  const manifest = releaseManifestSchema.parse({
    ...input.manifest,
    compose: { file: names.compose, sha256: sha256Hex(input.compose) },
  })
  const bytes = Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`)
  const options = input.private ? { mode: PRIVATE_FILE_MODE } : undefined
  if (input.private) ensurePrivateDir(input.dir)
  else mkdirSync(input.dir, { recursive: true })
  writeFileSync(join(input.dir, names.compose), input.compose, options)
  writeFileSync(join(input.dir, names.composeSha), `${manifest.compose.sha256}  ${names.compose}\n`, options)
  writeFileSync(join(input.dir, names.manifest), bytes, options)
  writeFileSync(join(input.dir, names.signature), `${signManifest(bytes, input.privateKey)}\n`, options)
  // A publication vouches for its releases in the folder's index, signed with the same key.
  if (input.index !== false) updateIndexIn(input.dir, { ...input.indexUpdate, manifests: [{ manifest, bytes }] }, input.privateKey, input.private ? PRIVATE_FILE_MODE : undefined)
  return manifest
}
