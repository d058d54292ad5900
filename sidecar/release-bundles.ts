/**
 * Importing an offline release bundle (shared/node/release-bundle.ts) into this updater, the one
 * place the page's upload and `owlat bundle import` pass: the whole file's signature, then every
 * entry's sha256, the signed index (by this updater's own keys and ratchet), the release's
 * signature, compose sha256, compose policy and its place in the index, and each pinned image's
 * registry manifest against its digest. Only then are the images loaded (`docker load`) and
 * checked against the IDs those manifests name, and the release kept. A refusal says why and
 * keeps nothing of the bundle.
 */
import { randomUUID } from 'node:crypto'
import { createReadStream, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { extract as tarExtract } from 'tar-stream'
import { z } from 'zod'
import { ensurePrivateDir } from '../shared/node/private-files'
import { BUNDLE_IMAGES_ENTRY, BundleError, extractReleaseBundle, readBundledRelease, verifyBundleSignature, type BundledRelease } from '../shared/node/release-bundle'
import { artifactNames } from '../shared/release-artifacts'
import { INDEX_FILE, INDEX_SIGNATURE_FILE, effectiveKeys, judgeAgainstIndex } from '../shared/release-index'
import { parseSha256File, sha256Hex } from '../shared/release-verify'
import { parseComposeModel } from './drivers/compose-project'
import type { Driver } from './drivers/types'
import { judgeServedIndex, verifyCarried, type AdmissionDeps } from './job-request'
import type { ReleaseArchive } from './release-archive'

export interface BundleImportDeps extends Pick<AdmissionDeps, 'journal' | 'releasePublicKey' | 'composePolicy'> {
  archive: ReleaseArchive
  driver: Driver
  /** Where uploads and extracted bundles are kept while they are judged (removed after). */
  workDir: string
  log: (line: string) => void
}

export interface BundleImport extends BundledRelease {
  /** Pinned images loaded from the bundle. */
  images: string[]
  /** The bundle's index is past its expiry: an update on it needs the freshness check overridden. */
  indexExpired: boolean
}

/** A registry's image manifest, as much as the check needs: the config blob whose digest is the image ID. */
const registryManifestSchema = z.object({
  schemaVersion: z.literal(2),
  config: z.object({ digest: z.string().regex(/^sha256:[a-f0-9]{64}$/) }),
})

/** `docker save`'s own manifest.json: the config file of every image it holds. */
const savedManifestSchema = z.array(z.object({ Config: z.string().min(1) })).min(1)

const PINNED = /@(sha256:[a-f0-9]{64})$/

/** A fresh folder in the updater's work dir for one upload or one bundle's entries. */
export function bundleWorkPath(workDir: string, suffix: string): string {
  ensurePrivateDir(workDir)
  return join(workDir, `${randomUUID()}${suffix}`)
}

/**
 * The images a `docker save` tar holds, by config digest, each config's bytes checked against its
 * name; the layers themselves the engine checks against each config on load.
 */
async function savedImageIds(tarPath: string): Promise<Set<string>> {
  const configs = new Map<string, string>()
  let manifest: unknown = null
  const extract = tarExtract()
  extract.on('entry', (header, stream, next) => {
    const wanted = header.name === 'manifest.json' || /^[a-f0-9]{64}\.json$/.test(header.name) || /^blobs\/sha256\/[a-f0-9]{64}$/.test(header.name)
    if (!wanted || (header.size ?? 0) > 4 * 1024 * 1024) {
      stream.resume()
      stream.on('end', next)
      return
    }
    const chunks: Buffer[] = []
    stream.on('data', (c: unknown) => chunks.push(c as Buffer))
    stream.on('end', () => {
      const bytes = Buffer.concat(chunks)
      if (header.name === 'manifest.json') manifest = JSON.parse(bytes.toString('utf8'))
      else configs.set(header.name, sha256Hex(bytes))
      next()
    })
  })
  await pipeline(createReadStream(tarPath), extract)
  const parsed = savedManifestSchema.safeParse(manifest)
  if (!parsed.success) throw new BundleError(`the bundle's ${BUNDLE_IMAGES_ENTRY} is not an image archive docker save wrote (no manifest.json)`)
  const ids = new Set<string>()
  for (const { Config } of parsed.data) {
    const actual = configs.get(Config)
    const named = /([a-f0-9]{64})(?:\.json)?$/.exec(Config)?.[1]
    if (!actual || actual !== named) throw new BundleError(`the bundle's ${BUNDLE_IMAGES_ENTRY} holds an image config (${Config}) whose content is not what its name says`)
    ids.add(`sha256:${actual}`)
  }
  return ids
}

export async function importBundle(path: string, deps: BundleImportDeps): Promise<BundleImport> {
  const trust = deps.journal.releaseTrust()
  await verifyBundleSignature(path, effectiveKeys(deps.releasePublicKey, trust.learnedKeys, trust.retiredKeys))
  const dir = bundleWorkPath(deps.workDir, '.d')
  try {
    const bundle = await extractReleaseBundle(path, dir)
    const release = await readBundledRelease(bundle)
    const { version } = release
    const names = artifactNames(version)

    const judged = judgeServedIndex({ text: release.files[INDEX_FILE]!, signature: release.files[INDEX_SIGNATURE_FILE]!.trim() }, deps, `an offline bundle of ${version}`, false)
    if (!judged.ok) throw new BundleError(judged.reason)
    const manifestBytes = readFileSync(bundle.path(names.manifest))
    const compose = release.files[names.compose]!
    const carried = verifyCarried({ manifestBytes, signature: release.files[names.signature]!.trim(), compose }, version, judged.keys, deps)
    if (!carried.ok) throw new BundleError(`release ${version} in the bundle: ${carried.reason}`)
    const unlisted = judgeAgainstIndex(judged.index, version, sha256Hex(manifestBytes))
    if (unlisted) throw new BundleError(unlisted)
    const shaLine = parseSha256File(release.files[names.composeSha]!)
    if (!shaLine || shaLine.sha256 !== sha256Hex(compose) || shaLine.file !== names.compose) throw new BundleError(`${names.composeSha} in the bundle does not match ${names.compose}`)

    // Each pinned image: the registry manifest its digest names, and the image ID that manifest names.
    const pinned = [...new Set([...parseComposeModel(compose).services.values()].map(s => s.image).filter((i): i is string => !!i && PINNED.test(i)))]
    const expected: Array<{ ref: string, imageId: string }> = []
    for (const ref of pinned) {
      const entry = bundle.manifest.images.find(i => i.ref === ref)
      if (!entry) {
        if (deps.driver.capabilities.images) throw new BundleError(`the bundle lacks the image ${ref}, which the release pins`)
        continue
      }
      const bytes = readFileSync(bundle.path(entry.manifest))
      const digest = PINNED.exec(ref)![1]!
      if (`sha256:${sha256Hex(bytes)}` !== digest) throw new BundleError(`the registry manifest of ${ref} in the bundle does not have the pinned digest`)
      const manifest = registryManifestSchema.safeParse(JSON.parse(bytes.toString('utf8')))
      if (!manifest.success) throw new BundleError(`the registry manifest of ${ref} in the bundle is not a single image's manifest (schema 2 with a config)`)
      expected.push({ ref, imageId: manifest.data.config.digest })
    }

    if (expected.length > 0 && deps.driver.capabilities.images && deps.driver.loadImages) {
      if (!bundle.manifest.files.some(f => f.name === BUNDLE_IMAGES_ENTRY)) throw new BundleError(`the bundle has no ${BUNDLE_IMAGES_ENTRY}`)
      const saved = await savedImageIds(bundle.path(BUNDLE_IMAGES_ENTRY))
      const foreign = [...saved].filter(id => !expected.some(e => e.imageId === id))
      if (foreign.length > 0) throw new BundleError(`the bundle's ${BUNDLE_IMAGES_ENTRY} holds images the release does not pin (${foreign.join(', ')})`)
      const missing = expected.filter(e => !saved.has(e.imageId))
      if (missing.length > 0) throw new BundleError(`the bundle's ${BUNDLE_IMAGES_ENTRY} lacks ${missing.map(m => m.ref).join(', ')}`)
      deps.log(`bundle ${version}: loading ${expected.length} image(s) into the engine`)
      await deps.driver.loadImages(bundle.path(BUNDLE_IMAGES_ENTRY), expected, line => deps.log(`bundle ${version}: ${line}`))
    }
    else if (expected.length > 0) {
      deps.log(`bundle ${version}: the ${deps.driver.name} driver runs no images; ${expected.length} left unloaded`)
    }

    deps.archive.keep(version, { manifestBytes, signature: release.files[names.signature]!, compose })
    if (judged.patch) deps.journal.saveReleaseTrust(judged.patch)
    deps.log(`bundle ${version}: verified and kept${judged.expired ? ` (its release index expired at ${judged.index.expiresAt})` : ''}`)
    return { ...release, images: deps.driver.capabilities.images ? expected.map(e => e.ref) : [], indexExpired: judged.expired }
  }
  finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
