/**
 * What the compose driver reads from a compose file itself: the project name, each service's
 * image and profiles, the services `up` brings up. The compose CLI stays the authority on the
 * full format (preflight runs its `config` check); this only needs what the driver acts on.
 */
import { basename } from 'node:path'
import { parseDocument } from 'yaml'
import { MAX_ALIAS_COUNT } from '../../shared/compose-policy'

export interface ComposeServiceModel {
  image: string | null
  profiles: string[]
}

export interface ComposeModel {
  name: string | null
  services: Map<string, ComposeServiceModel>
}

/** The one-shot service that deploys Convex functions, and the profile it must sit under. */
export const FUNCTIONS_SERVICE = 'convex-deploy'
export const FUNCTIONS_PROFILE = 'deploy'

function isDict(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

export function parseComposeModel(text: string): ComposeModel {
  const doc = parseDocument(text, { merge: true })
  if (doc.errors.length > 0) throw new Error(`compose file is not valid YAML: ${doc.errors[0]!.message.split('\n')[0]}`)
  const js: unknown = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT })
  if (!isDict(js) || !isDict(js.services)) throw new Error('compose file has no services section')
  const services = new Map<string, ComposeServiceModel>()
  for (const [name, service] of Object.entries(js.services)) {
    if (!isDict(service)) continue
    const profiles = Array.isArray(service.profiles) ? service.profiles.map(String) : []
    services.set(name, { image: typeof service.image === 'string' ? service.image : null, profiles })
  }
  return { name: typeof js.name === 'string' ? js.name : null, services }
}

/**
 * What runs once compose merges the operator's override file on top of `model`: a service's
 * `image` and `profiles` from the override replace the file's, and services only the override
 * defines are added (compose's merge rules for these keys).
 */
export function withOverride(model: ComposeModel, overrideText: string | null): ComposeModel {
  if (overrideText === null) return model
  const doc = parseDocument(overrideText, { merge: true })
  if (doc.errors.length > 0) throw new Error(`the override file is not valid YAML: ${doc.errors[0]!.message.split('\n')[0]}`)
  const js: unknown = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT })
  if (js === null || js === undefined) return model
  if (!isDict(js)) throw new Error('the override file is not a mapping')
  const services = new Map(model.services)
  for (const [name, service] of Object.entries(isDict(js.services) ? js.services : {})) {
    if (!isDict(service)) continue
    const base = services.get(name) ?? { image: null, profiles: [] }
    services.set(name, {
      image: typeof service.image === 'string' ? service.image : base.image,
      profiles: Array.isArray(service.profiles) ? service.profiles.map(String) : base.profiles,
    })
  }
  return { name: model.name, services }
}

/**
 * Compose's own rule: the file's `name`, else the folder's name lowercased with everything but
 * `[a-z0-9_-]` dropped. Computed once and passed as `-p`, so v1 (which ignores `name`) and v2 agree.
 */
export function projectName(model: ComposeModel, projectDir: string): string {
  const raw = model.name ?? basename(projectDir)
  const name = raw.toLowerCase().replace(/[^a-z0-9_-]/g, '').replace(/^[_-]+/, '')
  if (!name) throw new Error(`cannot derive a compose project name from "${raw}"`)
  return name
}

/** Services a plain `up` starts: those without profiles. */
export function defaultServices(model: ComposeModel): string[] {
  return [...model.services].filter(([, s]) => s.profiles.length === 0).map(([name]) => name).sort()
}

export function hasFunctionsService(model: ComposeModel): boolean {
  return model.services.get(FUNCTIONS_SERVICE)?.profiles.includes(FUNCTIONS_PROFILE) ?? false
}
