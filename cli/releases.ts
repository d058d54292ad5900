/**
 * The directory release source as the CLI reads it: a folder of release artifacts
 * (DESIGN.md, release artifacts), verified here before anything is sent to the updater.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { checkComposePolicy, type ComposePolicyOptions } from '../shared/compose-policy'
import { artifactNames } from '../shared/release-artifacts'
import { verifyRelease } from '../shared/release-verify'
import type { ReleaseManifest } from '../shared/schemas/release'
import { isVersion, sortVersionsDesc } from '../shared/version'
import { CliError } from './errors'

export interface LocalRelease {
  version: string
  manifestBytes: Buffer
  signature: string
  compose: string
}

export type ReleaseCheck
  = | { ok: true, release: LocalRelease, manifest: ReleaseManifest }
    | { ok: false, version: string, reason: string }

const MANIFEST_NAME = /^release-(.+)\.json$/

/** Versions that have a manifest in `dir`, newest first. */
export function listReleaseVersions(dir: string): string[] {
  let names: string[]
  try {
    names = readdirSync(dir)
  }
  catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    throw new CliError(code === 'ENOENT'
      ? `no release folder at ${dir}: set OWLAT_RELEASE_DIR to the folder of release artifacts`
      : `cannot read the release folder ${dir} (${code ?? 'error'})`)
  }
  const versions = names.flatMap((name) => {
    const version = MANIFEST_NAME.exec(name)?.[1]
    return version && isVersion(version) ? [version] : []
  })
  return sortVersionsDesc(versions, v => v)
}

/** Reads one release's artifacts; a missing file is an error naming it. */
export function readRelease(dir: string, version: string): LocalRelease {
  const names = artifactNames(version)
  const missing = [names.manifest, names.signature, names.compose].filter(n => !existsSync(join(dir, n)))
  if (missing.length > 0) throw new CliError(`release ${version} is incomplete in ${dir}: missing ${missing.join(', ')}`)
  try {
    return {
      version,
      manifestBytes: readFileSync(join(dir, names.manifest)),
      signature: readFileSync(join(dir, names.signature), 'utf8'),
      compose: readFileSync(join(dir, names.compose), 'utf8'),
    }
  }
  catch (err) {
    throw new CliError(`cannot read release ${version} in ${dir} (${(err as NodeJS.ErrnoException).code ?? 'error'})`)
  }
}

/** Signature, compose hash and compose policy: what the updater will check again itself. */
export function checkRelease(dir: string, version: string, publicKey: string, policy: ComposePolicyOptions): ReleaseCheck {
  let release: LocalRelease
  try {
    release = readRelease(dir, version)
  }
  catch (err) {
    return { ok: false, version, reason: (err as Error).message }
  }
  const verified = verifyRelease({ ...release, expectedVersion: version }, publicKey)
  if (!verified.ok) return { ok: false, version, reason: verified.reason }
  const policyResult = checkComposePolicy(release.compose, policy)
  if (!policyResult.ok) return { ok: false, version, reason: `compose policy: ${policyResult.violations.join('; ')}` }
  return { ok: true, release, manifest: verified.manifest }
}
