/**
 * Release tooling for maintainers: one release's artifacts from a compose template and image
 * digests, signed with the release key.
 *
 *   npm run release:artifacts -- VERSION --template FILE (--images PREFIX | --image SERVICE=REF@sha256:… …)
 *     --key PRIVATE.pem --out DIR [--channel stable|beta] [--severity normal|security]
 *     [--notes FILE] [--migrates-data] [--rollback-floor V] [--minimum-from V] [--requires-updater V]
 *     [--requires-engine V] [--requires-compose V] [--published-at ISO] [--force]
 *
 * `--minimum-from V` makes V a required upgrade stop: the release installs only over V or newer, and
 * older instances are taken through V first. `--requires-*` name the oldest updater, container
 * engine and compose the release needs; the plan's checks compare them with the host.
 *
 * `--images ghcr.io/owlat/` pins this repository's three images (`npm run images -- VERSION`, then
 * pushed): `web`, `updater` and `convex-deploy` at VERSION under that prefix, each by the digest the
 * registry reported when the local engine pushed it. Other services come pinned in the template or
 * by `--image`.
 *
 * Writes `docker-compose-V.yml` (every image pinned by digest), its `.sha256`, `release-V.json`
 * and `release-V.json.sig` — exactly what the directory source reads and what goes on a GitHub
 * release as assets. Refuses a version that is not semver, an image without a digest, and a
 * compose file the updater's compose policy would refuse, so nothing unusable gets published.
 */
import { execFileSync } from 'node:child_process'
import { createPrivateKey, createPublicKey } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import semver from 'semver'
import { isMap, parseDocument } from 'yaml'
import { z } from 'zod'
import { checkComposePolicy, composePolicyOptionsFromEnv } from '../shared/compose-policy'
import { artifactNames, writeReleaseArtifacts } from '../shared/release-artifacts'
import { INDEX_FILE, INDEX_SIGNATURE_FILE, keyId } from '../shared/release-index'
import { verifyRelease } from '../shared/release-verify'
import { isPrerelease, isVersion } from '../shared/version'

const USAGE = 'usage: release:artifacts VERSION --template FILE (--images PREFIX | --image SERVICE=REF@sha256:<digest> [--image …]) --key PRIVATE.pem --out DIR '
  + '[--channel stable|beta] [--severity normal|security] [--notes FILE] [--migrates-data] [--rollback-floor V] [--minimum-from V] '
  + '[--requires-updater V] [--requires-engine V] [--requires-compose V] [--published-at ISO] [--force] '
  + '[--revoke V=REASON …] [--next-key PUBLIC.pem …] [--retire-key PUBLIC.pem …] [--index-ttl-days N]'

// Repository, optional tag, then the digest that pins it: a tag alone can be moved after signing.
const PINNED_IMAGE = /^[a-z0-9]+(?:[._-][a-z0-9]+)*(?::\d+)?(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::\w[\w.-]{0,127})?@sha256:[a-f0-9]{64}$/

const semverArg = (what: string) => z.string({ error: `${what} is required` }).refine(isVersion, { error: v => `${what} "${String(v.input)}" is not a semver version (like 1.4.0 or 1.4.0-beta.1)` })

const argsSchema = z.object({
  version: semverArg('VERSION'),
  template: z.string({ error: '--template is required' }).min(1),
  imagesPrefix: z.string().regex(/^[a-z0-9]+(?:[._:-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*\/?$/, '--images must be a repository prefix like ghcr.io/owlat/').optional(),
  images: z.array(z.string()).transform((items, ctx) => {
    const map = new Map<string, string>()
    for (const item of items) {
      const eq = item.indexOf('=')
      const service = item.slice(0, eq)
      const ref = item.slice(eq + 1)
      if (eq < 1 || ref === '') ctx.addIssue({ code: 'custom', message: `--image ${item} must be SERVICE=REF` })
      else if (!PINNED_IMAGE.test(ref)) ctx.addIssue({ code: 'custom', message: `--image ${service}: ${ref} is not pinned by a digest (…@sha256:<64 hex>)` })
      else if (map.has(service)) ctx.addIssue({ code: 'custom', message: `--image ${service} is given twice` })
      else map.set(service, ref)
    }
    return map
  }),
  key: z.string({ error: '--key is required' }).min(1),
  out: z.string({ error: '--out is required' }).min(1),
  channel: z.enum(['stable', 'beta'], { error: '--channel must be stable or beta' }).optional(),
  severity: z.enum(['normal', 'security'], { error: '--severity must be normal or security' }).default('normal'),
  notes: z.string().min(1).optional(),
  migratesData: z.boolean().default(false),
  rollbackFloor: semverArg('--rollback-floor').optional(),
  minimumFrom: semverArg('--minimum-from').optional(),
  requiresUpdater: semverArg('--requires-updater').optional(),
  requiresEngine: semverArg('--requires-engine').optional(),
  requiresCompose: semverArg('--requires-compose').optional(),
  publishedAt: z.iso.datetime({ offset: true, error: '--published-at must be an ISO date-time like 2026-11-01T10:00:00Z' }).optional(),
  force: z.boolean().default(false),
  /** Earlier releases this publication revokes, each with why; the index names this version to move to. */
  revoke: z.array(z.string().regex(/^[^=]+=.+$/, '--revoke must be VERSION=REASON')).default([]),
  nextKeys: z.array(z.string().min(1)).default([]),
  retireKeys: z.array(z.string().min(1)).default([]),
  indexTtlDays: z.coerce.number({ error: '--index-ttl-days must be a number' }).int().min(1).max(365).default(14),
}).superRefine((a, ctx) => {
  if (a.images.size === 0 && a.imagesPrefix === undefined) {
    ctx.addIssue({ code: 'custom', message: '--images PREFIX or --image SERVICE=REF@sha256:… is required' })
  }
  if (a.channel === 'stable' && isPrerelease(a.version)) {
    ctx.addIssue({ code: 'custom', message: `${a.version} is a pre-release: it can only be published on the beta channel` })
  }
  if (a.rollbackFloor !== undefined && !a.migratesData) {
    ctx.addIssue({ code: 'custom', message: '--rollback-floor only applies with --migrates-data' })
  }
  if (a.minimumFrom !== undefined && isVersion(a.version) && isVersion(a.minimumFrom) && !semver.lt(a.minimumFrom, a.version)) {
    ctx.addIssue({ code: 'custom', message: `--minimum-from ${a.minimumFrom} must be older than the release ${a.version}` })
  }
})

export interface ReleaseArtifactsResult {
  dir: string
  files: string[]
  sha256: string
}

function parse(argv: string[]) {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      'template': { type: 'string' },
      'image': { type: 'string', multiple: true },
      'images': { type: 'string' },
      'key': { type: 'string' },
      'out': { type: 'string' },
      'channel': { type: 'string' },
      'severity': { type: 'string' },
      'notes': { type: 'string' },
      'migrates-data': { type: 'boolean' },
      'rollback-floor': { type: 'string' },
      'minimum-from': { type: 'string' },
      'requires-updater': { type: 'string' },
      'requires-engine': { type: 'string' },
      'requires-compose': { type: 'string' },
      'published-at': { type: 'string' },
      'force': { type: 'boolean' },
      'revoke': { type: 'string', multiple: true },
      'next-key': { type: 'string', multiple: true },
      'retire-key': { type: 'string', multiple: true },
      'index-ttl-days': { type: 'string' },
    },
    strict: true,
    allowPositionals: true,
  })
  if (positionals.length > 1) throw new Error(`one VERSION expected, got ${positionals.join(' ')}\n${USAGE}`)
  const parsed = argsSchema.safeParse({
    version: positionals[0],
    template: values.template,
    images: values.image ?? [],
    imagesPrefix: values.images,
    key: values.key,
    out: values.out,
    channel: values.channel,
    severity: values.severity,
    notes: values.notes,
    migratesData: values['migrates-data'],
    rollbackFloor: values['rollback-floor'],
    minimumFrom: values['minimum-from'],
    requiresUpdater: values['requires-updater'],
    requiresEngine: values['requires-engine'],
    requiresCompose: values['requires-compose'],
    publishedAt: values['published-at'],
    force: values.force,
    revoke: values.revoke,
    nextKeys: values['next-key'],
    retireKeys: values['retire-key'],
    indexTtlDays: values['index-ttl-days'],
  })
  if (!parsed.success) throw new Error(`${parsed.error.issues.map(i => i.message).join('; ')}\n${USAGE}`)
  return parsed.data
}

/** The images `npm run images` builds, by compose service. */
export const OWN_IMAGES = ['web', 'updater', 'convex-deploy'] as const

const repoDigestsSchema = z.array(z.string())

/**
 * `ghcr.io/owlat/web:1.4.0` → `ghcr.io/owlat/web:1.4.0@sha256:…`: the digest the registry reported
 * when the local engine pushed the image (its RepoDigests), so the release pins exactly what was pushed.
 */
export function pushedDigest(ref: string): string {
  const repository = ref.slice(0, ref.lastIndexOf(':'))
  let out: string
  try {
    out = execFileSync('docker', ['image', 'inspect', '--format', '{{json .RepoDigests}}', ref], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
  }
  catch (err) {
    const stderr = String((err as { stderr?: unknown }).stderr ?? '').trim().split('\n')[0]
    throw new Error(`cannot pin ${ref}: the local engine does not have it (${stderr || (err as Error).message}); build it with npm run images and push it first`, { cause: err })
  }
  const digests = repoDigestsSchema.parse(JSON.parse(out))
  const digest = digests.map(d => d.split('@')).find(([repo]) => repo === repository)?.[1]
  if (!digest) throw new Error(`cannot pin ${ref}: it was never pushed to ${repository.split('/')[0]} (push it, then run this again)`)
  return `${ref}@${digest}`
}

/** `--images PREFIX`: this repository's images at VERSION under PREFIX, each pinned by its pushed digest. */
function ownImages(prefix: string, version: string, template: string, given: Map<string, string>): Map<string, string> {
  const services = parseDocument(template).get('services')
  const names = isMap(services) ? services.items.map(item => String((item.key as { value?: unknown })?.value ?? item.key)) : []
  const images = new Map(given)
  const base = prefix.endsWith('/') ? prefix : `${prefix}/`
  for (const service of OWN_IMAGES) {
    if (!names.includes(service)) continue
    if (images.has(service)) throw new Error(`--image ${service} and --images both name the ${service} image`)
    images.set(service, pushedDigest(`${base}${service}:${version}`))
  }
  return images
}

function readInput(path: string, what: string): string {
  if (!existsSync(path)) throw new Error(`${what} ${path} does not exist`)
  return readFileSync(path, 'utf8')
}

/** A public key file for the index (`--next-key`, `--retire-key`): must be an Ed25519 PEM key. */
function publicKeyPem(path: string, what: string): string {
  const pem = readInput(path, what)
  if (!keyId(pem)) throw new Error(`${what} ${path} is not an Ed25519 public key (PEM, SPKI)`)
  return pem
}

/** The template with each given service's image replaced by its pinned reference; every image must end up pinned. */
export function pinCompose(template: string, images: Map<string, string>): { compose: string, images: { service: string, image: string }[] } {
  const doc = parseDocument(template, { uniqueKeys: true })
  if (doc.errors.length > 0) throw new Error(`the compose template is not valid YAML: ${doc.errors[0]!.message.split('\n')[0]}`)
  const services = doc.get('services')
  if (!isMap(services) || services.items.length === 0) throw new Error('the compose template has no services')
  const names = services.items.map(item => String((item.key as { value?: unknown })?.value ?? item.key))
  for (const service of images.keys()) {
    if (!names.includes(service)) throw new Error(`--image ${service}: the template has no service "${service}"`)
  }
  const pinned: { service: string, image: string }[] = []
  for (const service of names) {
    const given = images.get(service)
    if (given) doc.setIn(['services', service, 'image'], given)
    const image = doc.getIn(['services', service, 'image'])
    if (typeof image !== 'string') throw new Error(`service "${service}" has no image: a release cannot build one; pass --image ${service}=REF@sha256:…`)
    if (!PINNED_IMAGE.test(image)) throw new Error(`service "${service}" image ${image} has no digest; pass --image ${service}=REF@sha256:…`)
    pinned.push({ service, image })
  }
  return { compose: doc.toString(), images: pinned }
}

/** The manifest's `requires`, only with what was given (absent when nothing was). */
function requirements(args: { requiresUpdater?: string, requiresEngine?: string, requiresCompose?: string }) {
  const requires = Object.fromEntries(Object.entries({ updater: args.requiresUpdater, engine: args.requiresEngine, compose: args.requiresCompose }).filter(([, v]) => v !== undefined))
  return Object.keys(requires).length > 0 ? { requires } : {}
}

export function buildReleaseArtifacts(argv: string[], env: NodeJS.ProcessEnv = process.env): ReleaseArtifactsResult {
  const args = parse(argv)
  const out = resolve(args.out)
  const names = artifactNames(args.version)
  if (!args.force && existsSync(join(out, names.manifest))) {
    throw new Error(`${join(out, names.manifest)} already exists; a published version is never re-signed (pass --force to replace a draft)`)
  }

  let privateKey
  try {
    privateKey = createPrivateKey(readInput(args.key, '--key'))
  }
  catch (err) {
    throw new Error(`--key ${args.key} is not a readable private key: ${err instanceof Error ? err.message : String(err)}`, { cause: err })
  }
  if (privateKey.asymmetricKeyType !== 'ed25519') throw new Error(`--key ${args.key} is not an Ed25519 key`)

  const template = readInput(args.template, '--template')
  const given = args.imagesPrefix === undefined ? args.images : ownImages(args.imagesPrefix, args.version, template, args.images)
  const { compose, images } = pinCompose(template, given)
  // The updater refuses what its compose policy refuses: better to learn it before publishing.
  const policy = checkComposePolicy(compose, composePolicyOptionsFromEnv(env, env.OWLAT_DIR ?? '/opt/owlat'))
  if (!policy.ok) throw new Error(`the pinned compose file breaks the compose policy: ${policy.violations.join('; ')}`)

  const manifest = writeReleaseArtifacts({
    dir: out,
    compose,
    privateKey,
    manifest: {
      version: args.version,
      channel: args.channel ?? (isPrerelease(args.version) ? 'beta' : 'stable'),
      publishedAt: args.publishedAt ?? new Date().toISOString(),
      severity: args.severity,
      images,
      migrations: { migratesData: args.migratesData, rollbackFloor: args.rollbackFloor ?? null },
      ...(args.minimumFrom ? { minimumFrom: args.minimumFrom } : {}),
      ...requirements(args),
      notes: args.notes ? readInput(args.notes, '--notes') : `## ${args.version}\n`,
    },
    // The publication's signed index (releases-index.json): this release added, the serial one higher.
    indexUpdate: {
      ttlMs: args.indexTtlDays * 24 * 60 * 60_000,
      revoke: args.revoke.map((item) => {
        const at = item.indexOf('=')
        const version = item.slice(0, at)
        if (!isVersion(version)) throw new Error(`--revoke ${item}: ${version} is not a semver version`)
        return { version, reason: item.slice(at + 1), moveTo: args.version }
      }),
      ...(args.nextKeys.length > 0 ? { nextKeys: args.nextKeys.map(file => publicKeyPem(file, '--next-key')) } : {}),
      ...(args.retireKeys.length > 0 ? { retiredKeys: args.retireKeys.map(file => publicKeyPem(file, '--retire-key')) } : {}),
    },
  })

  // Read back what was written and verify it the way every consumer will.
  const verified = verifyRelease({
    manifestBytes: readFileSync(join(out, names.manifest)),
    signature: readFileSync(join(out, names.signature), 'utf8'),
    compose: readFileSync(join(out, names.compose), 'utf8'),
    expectedVersion: args.version,
  }, createPublicKey(privateKey))
  if (!verified.ok) throw new Error(`the written release does not verify: ${verified.reason}`)

  return { dir: out, files: [names.compose, names.composeSha, names.manifest, names.signature, INDEX_FILE, INDEX_SIGNATURE_FILE], sha256: manifest.compose.sha256 }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  try {
    const result = buildReleaseArtifacts(process.argv.slice(2))
    for (const file of result.files) console.log(join(result.dir, file))
    console.log(`compose sha256 ${result.sha256}`)
  }
  catch (err) {
    console.error(`release:artifacts: ${err instanceof Error ? err.message : String(err)}`)
    process.exitCode = 1
  }
}
