/**
 * Offline release bundles for air-gapped installs (`npm run release:bundle -- VERSION`, the page's
 * upload, `owlat bundle import FILE`): one tar holding a release's artifacts, the signed release
 * index, and its images as `docker save` wrote them with each image's registry manifest.
 *
 * The whole file is signed: its first entry holds an Ed25519 signature (base64, 88 bytes) over
 * the sha256 of every byte of the file with those 88 bytes read as zeros. So a byte changed
 * anywhere (a header, padding, the end) is refused before anything is read from it, and inside
 * it every release signature and sha256 is checked again as for any release. Node only.
 */
import { createReadStream, createWriteStream, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs'
import { open, readFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { createHash, createPrivateKey, type KeyObject } from 'node:crypto'
import { extract as tarExtract, pack as tarPack } from 'tar-stream'
import { z } from 'zod'
import { artifactNames } from '../release-artifacts'
import { PRIVATE_FILE_MODE } from './private-files'
import { INDEX_FILE, INDEX_SIGNATURE_FILE, signManifest } from '../release-index'
import { decodeSignature, verifyManifestSignature, type ReleaseKeys } from '../release-verify'
import { versionSchema } from '../schemas/common'

export const BUNDLE_SIGNATURE_ENTRY = 'owlat-bundle.sig'
export const BUNDLE_MANIFEST_ENTRY = 'bundle.json'
export const BUNDLE_IMAGES_ENTRY = 'images.tar'
/** Where the first entry's content (the signature) sits: right after its 512-byte header. */
const SIGNATURE_OFFSET = 512
/** An Ed25519 signature in base64. */
const SIGNATURE_LENGTH = 88
/** What is signed: this line and the file's sha256, so a signature over anything else never passes. */
const SIGNED_PREFIX = 'owlat-release-bundle-v1 sha256='

export function bundleFileName(version: string): string {
  return `owlat-${version}.bundle.tar`
}

const sha256Schema = z.string().regex(/^[a-f0-9]{64}$/, 'must be a lowercase sha256 hex digest')

/** `bundle.json`: what the bundle holds, each entry with its size and sha256. */
export const bundleManifestSchema = z.object({
  format: z.literal(1),
  version: versionSchema,
  createdAt: z.string().datetime(),
  files: z.array(z.object({
    name: z.string().regex(/^[\w.-]+(?:\/[\w.-]+)?$/, 'must be a plain relative file name'),
    size: z.number().int().nonnegative(),
    sha256: sha256Schema,
  })).max(200),
  /** Each image the release's compose file pins, with the registry manifest its digest names. */
  images: z.array(z.object({
    /** As pinned in the compose file: `REPO@sha256:…`. */
    ref: z.string().min(1).max(500),
    /** Entry holding the registry manifest, whose sha256 is the pinned digest. */
    manifest: z.string().min(1).max(200),
  })).max(100),
})
export type BundleManifest = z.infer<typeof bundleManifestSchema>

/** Refused bundles say why; nothing of them is kept. */
export class BundleError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'BundleError'
  }
}

async function fileSha256(path: string, zeroFrom = -1, zeroLength = 0): Promise<string> {
  const hash = createHash('sha256')
  let offset = 0
  for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
    let piece = chunk
    const start = Math.max(zeroFrom, offset)
    const end = Math.min(zeroFrom + zeroLength, offset + chunk.length)
    if (zeroFrom >= 0 && start < end) {
      piece = Buffer.from(chunk)
      piece.fill(0, start - offset, end - offset)
    }
    hash.update(piece)
    offset += chunk.length
  }
  return hash.digest('hex')
}

export interface BundleFile {
  /** Name inside the bundle. */
  name: string
  /** Where its bytes are on disk now. */
  path: string
}

/**
 * Writes the bundle: the signature placeholder first, `bundle.json`, then every file; then
 * signs the whole file and writes the signature in place.
 */
export async function writeReleaseBundle(out: string, input: { version: string, files: BundleFile[], images: BundleManifest['images'], privateKey: string | KeyObject, now?: number }): Promise<BundleManifest> {
  const files = input.files.map(f => ({ name: f.name, size: statSync(f.path).size, sha256: '' }))
  for (const [i, f] of input.files.entries()) files[i]!.sha256 = await fileSha256(f.path)
  const manifest = bundleManifestSchema.parse({ format: 1, version: input.version, createdAt: new Date(input.now ?? Date.now()).toISOString(), files, images: input.images })
  mkdirSync(dirname(out), { recursive: true })
  const pack = tarPack()
  const written = pipeline(pack, createWriteStream(out))
  const entry = (name: string, body: Buffer) => new Promise<void>((resolve, reject) => pack.entry({ name, size: body.length, mtime: new Date(0), mode: 0o644 }, body, err => (err ? reject(err) : resolve())))
  await entry(BUNDLE_SIGNATURE_ENTRY, Buffer.alloc(SIGNATURE_LENGTH))
  await entry(BUNDLE_MANIFEST_ENTRY, Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`))
  for (const [i, f] of input.files.entries()) {
    await new Promise<void>((resolve, reject) => {
      const sink = pack.entry({ name: f.name, size: files[i]!.size, mtime: new Date(0), mode: 0o644 }, err => (err ? reject(err) : resolve()))
      createReadStream(f.path).on('error', reject).pipe(sink)
    })
  }
  pack.finalize()
  await written
  const digest = await fileSha256(out, SIGNATURE_OFFSET, SIGNATURE_LENGTH)
  const key = typeof input.privateKey === 'string' ? createPrivateKey(input.privateKey) : input.privateKey
  const signature = signManifest(Buffer.from(`${SIGNED_PREFIX}${digest}\n`), key)
  const handle = await open(out, 'r+')
  try {
    await handle.write(Buffer.from(signature, 'ascii'), 0, SIGNATURE_LENGTH, SIGNATURE_OFFSET)
  }
  finally {
    await handle.close()
  }
  return manifest
}

/** The whole file against the trusted keys: every byte but the signature's own is covered. */
export async function verifyBundleSignature(path: string, keys: ReleaseKeys): Promise<void> {
  const size = statSync(path).size
  if (size < SIGNATURE_OFFSET + SIGNATURE_LENGTH + 1024) throw new BundleError('the file is too short to be a release bundle')
  const head = Buffer.alloc(SIGNATURE_LENGTH)
  const handle = await open(path, 'r')
  try {
    await handle.read(head, 0, SIGNATURE_LENGTH, SIGNATURE_OFFSET)
  }
  finally {
    await handle.close()
  }
  const signature = head.toString('latin1')
  if (!decodeSignature(signature)) throw new BundleError('the file is not a release bundle: it does not start with a bundle signature')
  const digest = await fileSha256(path, SIGNATURE_OFFSET, SIGNATURE_LENGTH)
  if (!verifyManifestSignature(Buffer.from(`${SIGNED_PREFIX}${digest}\n`), signature, keys)) {
    throw new BundleError('the bundle\'s signature does not verify against any trusted release key: it was changed after it was made, or made with another key')
  }
}

export interface OpenedBundle {
  manifest: BundleManifest
  /** Folder the entries were extracted to (the caller removes it). */
  dir: string
  /** The path of an entry the manifest lists. */
  path: (name: string) => string
}

/**
 * Extracts a bundle whose signature verified into `dir`, refusing any entry `bundle.json` does not
 * list, any listed entry missing, and any whose size or sha256 differs.
 */
export async function extractReleaseBundle(path: string, dir: string): Promise<OpenedBundle> {
  mkdirSync(dir, { recursive: true })
  let manifest: BundleManifest | null = null
  const seen = new Map<string, { size: number, sha256: string }>()
  const extract = tarExtract()
  const done = new Promise<void>((resolve, reject) => {
    extract.on('entry', (header, stream, next) => {
      const name = header.name
      const fail = (message: string) => {
        stream.resume()
        extract.destroy(new BundleError(message))
      }
      if (header.type !== 'file') return fail(`the bundle holds ${name}, which is not a plain file`)
      if (name === BUNDLE_SIGNATURE_ENTRY) {
        stream.resume()
        stream.on('end', next)
        return
      }
      if (name === BUNDLE_MANIFEST_ENTRY) {
        const chunks: Buffer[] = []
        stream.on('data', (c: unknown) => chunks.push(c as Buffer))
        stream.on('end', () => {
          try {
            manifest = bundleManifestSchema.parse(JSON.parse(Buffer.concat(chunks).toString('utf8')))
            next()
          }
          catch (err) {
            extract.destroy(new BundleError(`the bundle's ${BUNDLE_MANIFEST_ENTRY} is malformed: ${(err as Error).message}`))
          }
        })
        return
      }
      const listed = manifest?.files.find(f => f.name === name)
      if (!manifest || !listed) return fail(`the bundle holds ${name}, which its ${BUNDLE_MANIFEST_ENTRY} does not list`)
      if (seen.has(name)) return fail(`the bundle holds ${name} twice`)
      const target = join(dir, name)
      mkdirSync(dirname(target), { recursive: true })
      const hash = createHash('sha256')
      let size = 0
      const meter = new Transform({
        transform(chunk: Buffer, _encoding, done) {
          hash.update(chunk)
          size += chunk.length
          done(null, chunk)
        },
      })
      pipeline(stream, meter, createWriteStream(target)).then(() => {
        seen.set(name, { size, sha256: hash.digest('hex') })
        next()
      }, (err: Error) => extract.destroy(err))
    })
    extract.on('finish', resolve)
    extract.on('error', reject)
  })
  await Promise.all([pipeline(createReadStream(path), extract).catch(() => {}), done])
  const opened = manifest as BundleManifest | null
  if (!opened) throw new BundleError(`the bundle has no ${BUNDLE_MANIFEST_ENTRY}`)
  for (const file of opened.files) {
    const got = seen.get(file.name)
    if (!got) throw new BundleError(`the bundle lacks ${file.name}, which its ${BUNDLE_MANIFEST_ENTRY} lists`)
    if (got.size !== file.size || got.sha256 !== file.sha256) throw new BundleError(`${file.name} in the bundle is not what its ${BUNDLE_MANIFEST_ENTRY} lists (sha256 ${got.sha256}, expected ${file.sha256})`)
  }
  return { manifest: opened, dir, path: name => join(dir, name) }
}

/** The release files a bundle must hold for `version`, as a release folder names them. */
export function bundleReleaseFiles(version: string): string[] {
  const names = artifactNames(version)
  return [names.manifest, names.signature, names.compose, names.composeSha, INDEX_FILE, INDEX_SIGNATURE_FILE]
}

/** What an imported bundle's release is, for the caller to keep in its release folder. */
export interface BundledRelease {
  version: string
  /** File name → exact text, as a release folder holds them (bundleReleaseFiles). */
  files: Record<string, string>
}

export async function readBundledRelease(bundle: OpenedBundle): Promise<BundledRelease> {
  const files: Record<string, string> = {}
  for (const name of bundleReleaseFiles(bundle.manifest.version)) {
    if (!bundle.manifest.files.some(f => f.name === name)) throw new BundleError(`the bundle lacks ${name}`)
    files[name] = await readFile(bundle.path(name), 'utf8')
  }
  return { version: bundle.manifest.version, files }
}

/**
 * Keeps an imported bundle's release in a release folder (the directory source's), as a
 * publication would have left it: the release's files, and the bundle's signed index unless the
 * folder holds a newer one. Any other file name is refused: the names come from over the wire.
 */
export function keepBundledRelease(releaseDir: string, release: BundledRelease): string[] {
  const expected = bundleReleaseFiles(release.version)
  const names = Object.keys(release.files)
  const unexpected = names.filter(n => !expected.includes(n))
  if (unexpected.length > 0 || names.length !== expected.length) throw new BundleError(`an imported release carries other files than a release's (${[...unexpected, ...expected.filter(n => !names.includes(n))].join(', ')})`)
  mkdirSync(releaseDir, { recursive: true })
  const kept: string[] = []
  const indexPath = join(releaseDir, INDEX_FILE)
  const serial = (text: string) => (JSON.parse(text) as { serial?: number }).serial ?? 0
  const newerIndex = !existsSync(indexPath) || serial(readFileSync(indexPath, 'utf8')) < serial(release.files[INDEX_FILE]!)
  // The manifest last among the release's files: a release counts once its manifest is there.
  const order = [...expected.filter(n => n !== INDEX_FILE && n !== INDEX_SIGNATURE_FILE && !n.endsWith('.json')), artifactNames(release.version).manifest]
  if (newerIndex) order.push(INDEX_SIGNATURE_FILE, INDEX_FILE)
  for (const name of order) {
    const tmp = join(releaseDir, `.${name}.${process.pid}.tmp`)
    // Owner-only, like every file the data dir holds (the release folder is usually in it).
    writeFileSync(tmp, release.files[name]!, { mode: PRIVATE_FILE_MODE })
    renameSync(tmp, join(releaseDir, name))
    kept.push(name)
  }
  return kept
}
