/**
 * Sizes of the images `npm run images -- VERSION` built: each image, and what the web adds on top
 * of the Node base image it was built from (the rest is shared with every other image on that base).
 *
 *   node --import tsx bench/images.ts [VERSION] [--prefix owlat/]
 *
 * VERSION defaults to the package's. Needs the images built (`npm run images -- VERSION`).
 */
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import Docker from 'dockerode'
import { OWN_IMAGES } from '../scripts/release-artifacts'

const ROOT = new URL('..', import.meta.url)
const { values, positionals } = parseArgs({ options: { prefix: { type: 'string', default: 'owlat/' } }, allowPositionals: true })
const version = positionals[0] ?? (JSON.parse(readFileSync(new URL('package.json', ROOT), 'utf8')) as { version: string }).version
const prefix = values.prefix.endsWith('/') ? values.prefix : `${values.prefix}/`

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`
const docker = new Docker()

async function inspect(ref: string) {
  try {
    return await docker.getImage(ref).inspect()
  }
  catch {
    throw new Error(`${ref} is not built: npm run images -- ${version}${prefix === 'owlat/' ? '' : ` --prefix ${prefix}`}`)
  }
}

// The base the images were built from, as scripts/images.sh resolves it (node:22-slim or its local stand-in).
const printed = execFileSync('bash', ['scripts/images.sh', '--print-base'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
const baseRef = /^BASE_IMAGE=(.+)$/m.exec(printed)?.[1]
if (!baseRef) throw new Error('scripts/images.sh --print-base named no base image')
const base = await inspect(baseRef)

console.log(`images of ${version} (base ${baseRef}, ${mb(base.Size)})`)
for (const name of OWN_IMAGES) {
  const ref = `${prefix}${name}:${version}`
  const image = await inspect(ref)
  const layers = image.RootFS.Layers ?? []
  const baseLayers = base.RootFS.Layers ?? []
  const onBase = baseLayers.every((layer, i) => layers[i] === layer)
  const above = onBase ? `, ${mb(image.Size - base.Size)} above the base in ${layers.length - baseLayers.length} layers` : ', not built on this base'
  console.log(`  ${ref.padEnd(36)} ${mb(image.Size).padStart(9)}${above}`)
}
