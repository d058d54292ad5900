/**
 * Release tooling for air-gapped installs: one release as a single signed file.
 *
 *   npm run release:bundle -- VERSION --from DIR --key PRIVATE.pem [--out DIR] [--no-images]
 *
 * Reads the release's artifacts and the signed index from DIR (what `release:artifacts` wrote),
 * checks them the way the updater will (signature, compose sha256, listed in the index), then
 * writes `owlat-VERSION.bundle.tar` (into --out, default DIR) holding them, every image the compose
 * file pins (`docker save`, pulled through the local engine when missing) and each image's
 * registry manifest, whose sha256 is the pinned digest. The whole file is signed with the release
 * key (shared/node/release-bundle.ts); admins upload it on the page or run `owlat bundle import`.
 * `--no-images` leaves the images out, for an updater whose driver runs none (`local`): the
 * compose driver refuses such a bundle.
 */
import { createPrivateKey, createPublicKey } from 'node:crypto'
import { createWriteStream, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import { ofetch } from 'ofetch'
import { parseDocument, isMap } from 'yaml'
import { z } from 'zod'
import { bundleFileName, bundleReleaseFiles, writeReleaseBundle, type BundleFile } from '../shared/node/release-bundle'
import { artifactNames } from '../shared/release-artifacts'
import { INDEX_FILE, INDEX_SIGNATURE_FILE, judgeAgainstIndex, verifyReleaseIndex } from '../shared/release-index'
import { sha256Hex, verifyRelease } from '../shared/release-verify'
import { isVersion } from '../shared/version'
import { connectEngine, ensureImage } from '../sidecar/drivers/docker-engine'

const USAGE = 'usage: release:bundle VERSION --from DIR --key PRIVATE.pem [--out DIR] [--no-images]'

const argsSchema = z.object({
  version: z.string({ error: 'VERSION is required' }).refine(isVersion, { error: v => `VERSION "${String(v.input)}" is not a semver version` }),
  from: z.string({ error: '--from is required' }).min(1),
  key: z.string({ error: '--key is required' }).min(1),
  out: z.string().min(1).optional(),
  noImages: z.boolean().default(false),
})

const PINNED = /^(.+?)(?::[\w][\w.-]{0,127})?@(sha256:[a-f0-9]{64})$/
const MANIFEST_TYPES = [
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
].join(', ')

/** `127.0.0.1:5000/owlat/web` → the registry's base URL and the repository's name on it. */
export function registryOf(repository: string): { base: string, name: string } {
  const [first, ...rest] = repository.split('/')
  const explicit = rest.length > 0 && (first!.includes('.') || first!.includes(':') || first === 'localhost')
  if (!explicit) return { base: 'https://registry-1.docker.io', name: rest.length > 0 ? repository : `library/${repository}` }
  // A registry on this machine speaks plain HTTP, as the engine's insecure default allows.
  const local = /^(?:localhost|127\.\d+\.\d+\.\d+|\[::1\])(?::\d+)?$/.test(first!)
  return { base: `${local ? 'http' : 'https'}://${first}`, name: rest.join('/') }
}

/** The registry manifest a digest names, as bytes, asking for an anonymous token when the registry wants one. */
async function registryManifest(ref: string): Promise<Buffer> {
  const [, repository, digest] = PINNED.exec(ref)!
  const { base, name } = registryOf(repository!)
  const url = `${base}/v2/${name}/manifests/${digest}`
  const get = (token?: string) => ofetch.raw(url, {
    responseType: 'arrayBuffer',
    ignoreResponseError: true,
    retry: 1,
    headers: { accept: MANIFEST_TYPES, ...(token ? { authorization: `Bearer ${token}` } : {}) },
  })
  let res = await get()
  const challenge = res.headers.get('www-authenticate')
  if (res.status === 401 && challenge?.startsWith('Bearer ')) {
    const params = Object.fromEntries([...challenge.slice(7).matchAll(/(\w+)="([^"]*)"/g)].map(m => [m[1], m[2]]))
    const auth = await ofetch<{ token?: string, access_token?: string }>(params.realm!, { query: { service: params.service, scope: params.scope } })
    res = await get(auth.token ?? auth.access_token)
  }
  if (res.status !== 200 || !res._data) throw new Error(`cannot read the registry manifest of ${ref}: ${url} answered ${res.status}`)
  const bytes = Buffer.from(res._data)
  if (`sha256:${sha256Hex(bytes)}` !== digest) throw new Error(`the registry answered ${url} with a manifest whose sha256 is not ${digest}`)
  return bytes
}

function pinnedImages(compose: string): string[] {
  const services = parseDocument(compose).get('services')
  if (!isMap(services)) return []
  const images = services.items.map(item => (item.value as { get?: (k: string) => unknown })?.get?.('image')).filter((i): i is string => typeof i === 'string')
  return [...new Set(images.filter(i => PINNED.test(i)))]
}

export interface ReleaseBundleResult {
  file: string
  images: string[]
  bytes: number
}

export async function buildReleaseBundle(argv: string[]): Promise<ReleaseBundleResult> {
  const { values, positionals } = parseArgs({ args: argv, options: { 'from': { type: 'string' }, 'key': { type: 'string' }, 'out': { type: 'string' }, 'no-images': { type: 'boolean' } }, strict: true, allowPositionals: true })
  if (positionals.length > 1) throw new Error(`one VERSION expected, got ${positionals.join(' ')}\n${USAGE}`)
  const parsed = argsSchema.safeParse({ version: positionals[0], from: values.from, key: values.key, out: values.out, noImages: values['no-images'] })
  if (!parsed.success) throw new Error(`${parsed.error.issues.map(i => i.message).join('; ')}\n${USAGE}`)
  const { version } = parsed.data
  const from = resolve(parsed.data.from)
  const names = artifactNames(version)
  for (const name of bundleReleaseFiles(version)) {
    if (!existsSync(join(from, name))) throw new Error(`${join(from, name)} does not exist: run release:artifacts for ${version} into ${from} first`)
  }
  let privateKey
  try {
    privateKey = createPrivateKey(readFileSync(parsed.data.key, 'utf8'))
  }
  catch (err) {
    throw new Error(`--key ${parsed.data.key} is not a readable private key: ${(err as Error).message}`, { cause: err })
  }
  const publicKey = createPublicKey(privateKey).export({ type: 'spki', format: 'pem' }).toString()

  // What the updater will check, checked first: nothing it would refuse gets bundled.
  const manifestBytes = readFileSync(join(from, names.manifest))
  const compose = readFileSync(join(from, names.compose), 'utf8')
  const verified = verifyRelease({ manifestBytes, signature: readFileSync(join(from, names.signature), 'utf8'), compose, expectedVersion: version }, publicKey)
  if (!verified.ok) throw new Error(`release ${version} in ${from} does not verify with this key: ${verified.reason}`)
  const index = verifyReleaseIndex({ bytes: readFileSync(join(from, INDEX_FILE)), signature: readFileSync(join(from, INDEX_SIGNATURE_FILE), 'utf8') }, { keys: [publicKey], highestSerial: null })
  if (!index.ok) throw new Error(`the release index in ${from} does not verify with this key: ${index.reason}`)
  const unlisted = judgeAgainstIndex(index.index, version, sha256Hex(manifestBytes))
  if (unlisted) throw new Error(`${unlisted}: publish the index that lists it first`)

  const work = mkdtempSync(join(tmpdir(), 'owlat-release-bundle-'))
  try {
    const files: BundleFile[] = bundleReleaseFiles(version).map(name => ({ name, path: join(from, name) }))
    const refs = parsed.data.noImages ? [] : pinnedImages(compose)
    const images = []
    if (refs.length > 0) {
      const docker = connectEngine()
      for (const [i, ref] of refs.entries()) {
        const manifest = join(work, `image-${i}.json`)
        writeFileSync(manifest, await registryManifest(ref))
        files.push({ name: `images/${i}.json`, path: manifest })
        images.push({ ref, manifest: `images/${i}.json` })
        await ensureImage(docker, ref)
      }
      const saved = join(work, 'images.tar')
      // `GET /images/get?names=…` (docker save of several images in one tar); dockerode's types leave it out.
      const getImages = (docker as unknown as { getImages: (opts: { names: string[] }) => Promise<NodeJS.ReadableStream> }).getImages.bind(docker)
      await pipeline(await getImages({ names: refs }), createWriteStream(saved))
      files.push({ name: 'images.tar', path: saved })
    }
    const out = join(resolve(parsed.data.out ?? from), bundleFileName(version))
    await writeReleaseBundle(out, { version, files, images, privateKey })
    return { file: out, images: refs, bytes: statSync(out).size }
  }
  finally {
    rmSync(work, { recursive: true, force: true })
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  buildReleaseBundle(process.argv.slice(2)).then((result) => {
    console.log(`${result.file} (${result.bytes} bytes, ${result.images.length} image(s))`)
    for (const image of result.images) console.log(`  ${image}`)
  }, (err: unknown) => {
    console.error(`release:bundle: ${err instanceof Error ? err.message : String(err)}`)
    process.exitCode = 1
  })
}
