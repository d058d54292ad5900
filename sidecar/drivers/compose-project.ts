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
  labels: Record<string, string>
}

export interface ComposeModel {
  name: string | null
  services: Map<string, ComposeServiceModel>
}

/**
 * The `deploy-functions` step runs every one-shot service the release marks with this label, in
 * the order its value gives (a number, ascending; ties by name). Each sits under the `deploy`
 * profile (so `up` never starts it); one that also sits under another profile (`hosted` for the
 * control plane's `nest-api-deploy`) runs only where that profile is active (COMPOSE_PROFILES).
 * A release without any marked service keeps the older convention: `convex-deploy` under `deploy`.
 */
export const DEPLOY_LABEL = 'io.owlat.deploy-functions'
export const FUNCTIONS_SERVICE = 'convex-deploy'
export const FUNCTIONS_PROFILE = 'deploy'

export interface DeployStep {
  service: string
  order: number
  /** Every profile it sits under: `run` is given each. */
  profiles: string[]
}

function isDict(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Compose's two forms of `labels`: a map, or a list of `key=value`. */
function labelsOf(value: unknown): Record<string, string> {
  const out: Record<string, string> = {}
  if (Array.isArray(value)) {
    for (const entry of value.map(String)) {
      const eq = entry.indexOf('=')
      if (eq > 0) out[entry.slice(0, eq)] = entry.slice(eq + 1)
      else out[entry] = ''
    }
  }
  else if (isDict(value)) {
    for (const [k, v] of Object.entries(value)) out[k] = v === null || v === undefined ? '' : String(v)
  }
  return out
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
    services.set(name, { image: typeof service.image === 'string' ? service.image : null, profiles, labels: labelsOf(service.labels) })
  }
  return { name: typeof js.name === 'string' ? js.name : null, services }
}

/**
 * What runs once compose merges the operator's override file on top of `model`: a service's
 * `image` and `profiles` from the override replace the file's, its labels merge, and services only the override
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
    const base = services.get(name) ?? { image: null, profiles: [], labels: {} }
    services.set(name, {
      image: typeof service.image === 'string' ? service.image : base.image,
      profiles: Array.isArray(service.profiles) ? service.profiles.map(String) : base.profiles,
      // Labels merge key by key, the override winning.
      labels: { ...base.labels, ...labelsOf(service.labels) },
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

/**
 * The one-shots `deploy-functions` runs, in order, and those it leaves out because a profile
 * they need is not active (`activeProfiles`, from COMPOSE_PROFILES). Throws when a marked
 * service is not a one-shot under `deploy` or its order is not a number: the release is wrong.
 */
export function deploySteps(model: ComposeModel, activeProfiles: readonly string[] = []): { steps: DeployStep[], inactive: DeployStep[] } {
  let marked = [...model.services].filter(([, s]) => DEPLOY_LABEL in s.labels)
  if (marked.length === 0) {
    const legacy = model.services.get(FUNCTIONS_SERVICE)
    marked = legacy?.profiles.includes(FUNCTIONS_PROFILE) ? [[FUNCTIONS_SERVICE, { ...legacy, labels: { ...legacy.labels, [DEPLOY_LABEL]: '0' } }]] : []
  }
  const all = marked.map(([service, s]) => {
    const raw = s.labels[DEPLOY_LABEL]!.trim()
    const order = raw === '' ? 0 : Number(raw)
    if (!Number.isFinite(order)) throw new Error(`${service}: label ${DEPLOY_LABEL}="${raw}" is not a number (its place in the deploy order)`)
    if (!s.profiles.includes(FUNCTIONS_PROFILE)) throw new Error(`${service} is marked ${DEPLOY_LABEL} but does not sit under the "${FUNCTIONS_PROFILE}" profile, so up would start it as a service`)
    return { service, order, profiles: s.profiles }
  }).sort((a, b) => a.order - b.order || a.service.localeCompare(b.service))
  const active = new Set([FUNCTIONS_PROFILE, ...activeProfiles])
  return {
    steps: all.filter(step => step.profiles.every(p => active.has(p))),
    inactive: all.filter(step => !step.profiles.every(p => active.has(p))),
  }
}

/** COMPOSE_PROFILES, as compose reads it (comma separated). */
export function activeProfiles(env: Record<string, string | undefined>): string[] {
  return (env.COMPOSE_PROFILES ?? '').split(',').map(p => p.trim()).filter(Boolean)
}
