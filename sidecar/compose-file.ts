/**
 * Reading the stack's compose file: only what the updater needs from it, the web service's
 * image (whose tag is the installed version) and its environment. Node only.
 */
import { readFileSync } from 'node:fs'
import { parse } from 'yaml'
import { z } from 'zod'
import { MAX_ALIAS_COUNT } from '../shared/compose-policy'
import { isVersion } from '../shared/version'

const envValue = z.union([z.string(), z.number(), z.boolean(), z.null()])

const composeSchema = z.object({
  services: z.object({
    web: z.object({
      image: z.string().min(1, 'must not be empty'),
      environment: z.union([z.record(z.string(), envValue), z.array(z.string())]).optional(),
    }).loose(),
  }).loose(),
}).loose()

export interface ComposeWeb {
  /** Full image reference as written, e.g. `ghcr.io/owlat/web:1.3.0@sha256:…`. */
  image: string
  /** The image tag, a strict semver version. */
  version: string
  /** The web service's `environment`, normalised to a map. */
  environment: Record<string, string>
}

/** `ghcr.io/owlat/web:1.3.0@sha256:…` → `1.3.0`; throws when the tag is missing or not semver. */
export function versionFromImage(image: string): string {
  const withoutDigest = image.split('@')[0]!
  // The tag follows the last ':' after the last '/', so a registry port (host:5000/…) is not a tag.
  const name = withoutDigest.slice(withoutDigest.lastIndexOf('/') + 1)
  const colon = name.lastIndexOf(':')
  if (colon < 0) throw new Error(`web image ${image} has no version tag`)
  const tag = name.slice(colon + 1)
  if (!isVersion(tag)) throw new Error(`web image tag "${tag}" is not a semantic version`)
  return tag
}

/** `versionFromImage`, or null for an image without a semver tag (a service's health, its log lines). */
export function tagVersion(image: string): string | null {
  try {
    return versionFromImage(image)
  }
  catch {
    return null
  }
}

/**
 * Map form is taken as is (null means "inherit", so it is left out); list form `KEY=value`
 * likewise, and a bare `KEY` inherits from the updater's own environment.
 */
function normaliseEnvironment(env: z.infer<typeof composeSchema>['services']['web']['environment']): Record<string, string> {
  const out: Record<string, string> = {}
  if (!env) return out
  if (Array.isArray(env)) {
    for (const entry of env) {
      const eq = entry.indexOf('=')
      if (eq > 0) out[entry.slice(0, eq)] = entry.slice(eq + 1)
    }
    return out
  }
  for (const [key, value] of Object.entries(env)) {
    if (value !== null) out[key] = String(value)
  }
  return out
}

/** Parses compose text; throws one readable error naming what is wrong. */
export function parseCompose(text: string): ComposeWeb {
  let doc: unknown
  try {
    doc = parse(text, { maxAliasCount: MAX_ALIAS_COUNT })
  }
  catch (err) {
    throw new Error(`compose file is not valid YAML: ${(err as Error).message.split('\n')[0]}`, { cause: err })
  }
  const parsed = composeSchema.safeParse(doc)
  if (!parsed.success) {
    throw new Error(`compose file is malformed: ${parsed.error.issues.map(i => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`)
  }
  const web = parsed.data.services.web
  return { image: web.image, version: versionFromImage(web.image), environment: normaliseEnvironment(web.environment) }
}

export function readCompose(path: string): ComposeWeb {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  }
  catch (err) {
    throw new Error(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err })
  }
  try {
    return parseCompose(text)
  }
  catch (err) {
    throw new Error(`${path}: ${(err as Error).message}`, { cause: err })
  }
}
