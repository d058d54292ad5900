/**
 * Admission of `POST /v1/jobs`, the one place every job passes, from any client: the body's
 * shape, the release it carries (verified here against the pinned key and the compose policy,
 * whatever the caller checked), the shared target rules (shared/targets.ts: channel, known
 * version, the rollback floor of every release undone, verified artifacts), one job at a time.
 */
import { randomUUID } from 'node:crypto'
import { checkComposePolicy, describePolicyViolations, type ComposePolicyOptions } from '../shared/compose-policy'
import { verifyManifest, verifyRelease, type ReleaseKeys } from '../shared/release-verify'
import { toRelease } from '../shared/releases/source'
import { jobRequestSchema, type Job } from '../shared/schemas/job'
import type { Release } from '../shared/schemas/release'
import { checkTarget, runRecordsOfJobs } from '../shared/targets'
import { pathChainError } from '../shared/upgrade-path'
import { parseCompose } from './compose-file'
import type { DriverCapabilities } from './drivers/types'
import type { Journal } from './journal'
import type { ReleaseArchive } from './release-archive'

const BASE64 = /^[A-Z0-9+/]+={0,2}$/i
/** Far more jobs than an instance runs in years; older ones cannot matter to a rollback. */
const HISTORY_LIMIT = 500

export type Admission
  = | { ok: true, job: Job }
    | { ok: false, status: 400 | 409, error: string }

export interface AdmissionDeps {
  journal: Journal
  releasePublicKey: ReleaseKeys
  installedVersion: string
  composePolicy: ComposePolicyOptions
  archive: ReleaseArchive
  capabilities: DriverCapabilities
}

function badRequest(error: string): Admission {
  return { ok: false, status: 400, error }
}

/** Buffer.from silently skips non-base64 characters; a mangled manifest must not pass as another. */
function decode(base64: string): Buffer | null {
  return BASE64.test(base64) ? Buffer.from(base64, 'base64') : null
}

/** Later entries win: the target over what the archive and the request say of the same version. */
function byVersion(...lists: Release[][]): Release[] {
  const out = new Map<string, Release>()
  for (const list of lists) for (const release of list) out.set(release.version, release)
  return [...out.values()]
}

const JOB_ID = /^[\w-]{1,100}$/

/**
 * The web's run id when it has one that is free here, so a run has one id everywhere: the page,
 * the API, `owlat logs --job` and the journal. Otherwise (the CLI's jobs) a new one.
 */
function jobIdFor(runId: string | null, journal: Journal): string {
  return runId && JOB_ID.test(runId) && !journal.getJob(runId) ? runId : randomUUID()
}

type Carried = { ok: true, verified: Extract<ReturnType<typeof verifyRelease>, { ok: true }> } | { ok: false, reason: string }

/**
 * A release a job carries (its target or a required stop), judged as one: its signature against
 * the pinned key, the compose sha256, the compose policy, and the web version its compose file pins.
 */
function verifyCarried(release: { manifestBytes: Buffer, signature: string, compose: string }, version: string, deps: AdmissionDeps): Carried {
  const verified = verifyRelease({ ...release, expectedVersion: version }, deps.releasePublicKey)
  if (!verified.ok) return { ok: false, reason: verified.reason }
  // A signed release is still refused when its compose file would hand a container the host.
  const policy = checkComposePolicy(release.compose, deps.composePolicy)
  if (!policy.ok) return { ok: false, reason: describePolicyViolations(policy.violations) }
  let composeVersion: string
  try {
    composeVersion = parseCompose(release.compose).version
  }
  catch (err) {
    return { ok: false, reason: (err as Error).message }
  }
  if (composeVersion !== version) return { ok: false, reason: `the compose file pins web ${composeVersion}, not ${version}` }
  return { ok: true, verified }
}

/** Validates a job request and, when it passes, keeps its release and journals the job as queued. */
export async function admitJob(body: unknown, deps: AdmissionDeps): Promise<Admission> {
  const parsed = jobRequestSchema.safeParse(body)
  if (!parsed.success) {
    return badRequest(`invalid job request: ${parsed.error.issues.map(i => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ')}`)
  }
  const request = parsed.data
  const manifestBytes = decode(request.manifest)
  if (!manifestBytes) return badRequest('invalid job request: manifest: must be base64')

  const target = verifyCarried({ manifestBytes, signature: request.signature, compose: request.compose }, request.targetVersion, deps)
  if (!target.ok) return badRequest(target.reason)
  const verified = target.verified

  // Required upgrade stops: each verified like the target, and the path as a whole must honour
  // every release's `minimumFrom`, whoever computed it (the sidecar runs one hop per version).
  if (request.stops.length > 0 && request.kind === 'rollback') return badRequest('only an update or its rehearsal goes through required upgrade stops')
  const stops: Array<{ version: string, compose: string, manifestBytes: Buffer, signature: string, release: Release }> = []
  for (const [i, stop] of request.stops.entries()) {
    const bytes = decode(stop.manifest)
    if (!bytes) return badRequest(`stops.${i}: manifest: must be base64`)
    const manifest = verifyManifest(bytes, stop.signature, deps.releasePublicKey)
    if (!manifest.ok) return badRequest(`stops.${i}: ${manifest.reason}`)
    const version = manifest.manifest.version
    const carried = verifyCarried({ manifestBytes: bytes, signature: stop.signature, compose: stop.compose }, version, deps)
    if (!carried.ok) return badRequest(`required stop ${version}: ${carried.reason}`)
    stops.push({ version, compose: stop.compose, manifestBytes: bytes, signature: stop.signature, release: toRelease(carried.verified.manifest, null) })
  }
  const hops = [...stops.map(stop => stop.release), toRelease(verified.manifest, null)]

  // Floors come from the manifests the request carries and from every release this updater kept.
  const carried: Release[] = []
  for (const [i, signed] of request.releases.entries()) {
    const bytes = decode(signed.manifest)
    const manifest = bytes ? verifyManifest(bytes, signed.signature, deps.releasePublicKey) : { ok: false as const, reason: 'manifest: must be base64' }
    if (!manifest.ok) return badRequest(`releases.${i}: ${manifest.reason}`)
    carried.push(toRelease(manifest.manifest, 'only its manifest came with the job'))
  }
  const releases = byVersion(carried, await deps.archive.releases(), hops)
  const installed = deps.installedVersion
  const check = checkTarget({
    kind: request.kind,
    targetVersion: request.targetVersion,
    currentVersion: installed,
    channel: request.channel,
    releases,
    runs: runRecordsOfJobs(deps.journal.listJobs(HISTORY_LIMIT)),
    retryFailed: request.retryFailed,
  })
  if (!check.ok) return badRequest(check.reason)
  const chain = request.kind !== 'rollback' ? pathChainError(deps.installedVersion, hops) : null
  if (chain) return badRequest(`cannot update ${deps.installedVersion} to ${request.targetVersion}: ${chain}`)
  // Each stop is a target of its own hop: the same rules (its channel, not failed here unless asked).
  for (const [i, stop] of stops.entries()) {
    const stopCheck = checkTarget({ kind: request.kind, targetVersion: stop.version, currentVersion: i === 0 ? installed : stops[i - 1]!.version, channel: request.channel, releases, runs: runRecordsOfJobs(deps.journal.listJobs(HISTORY_LIMIT)), retryFailed: request.retryFailed })
    if (!stopCheck.ok) return badRequest(`required stop ${stop.version}: ${stopCheck.reason}`)
  }
  // Whatever else a client leaves out, the floor of the release being left must be known.
  if (request.kind === 'rollback' && !releases.some(r => r.version === installed)) {
    return badRequest(`cannot roll back from ${installed}: its signed manifest is unknown here, so its rollback floor cannot be checked (send it with the job's releases)`)
  }

  if (request.restoreBackupJobId !== null) {
    if (request.kind !== 'rollback') return badRequest('only a rollback can restore a data backup')
    if (!deps.capabilities.dataRestore) return badRequest('this updater\'s driver cannot restore data backups')
    const source = deps.journal.getJob(request.restoreBackupJobId)
    if (!source?.backup) return badRequest(`job ${request.restoreBackupJobId} left no data backup to restore`)
    if (source.fromVersion !== request.targetVersion) {
      return badRequest(`the backup of job ${source.id} holds the data of ${source.fromVersion}, not of ${request.targetVersion}`)
    }
  }

  const active = deps.journal.activeJobs()[0]
  if (active) return { ok: false, status: 409, error: `job ${active.id} (${active.kind} to ${active.toVersion}) is still ${active.status}` }

  for (const stop of stops) deps.archive.keep(stop.version, { manifestBytes: stop.manifestBytes, signature: stop.signature, compose: stop.compose })
  deps.archive.keep(request.targetVersion, { manifestBytes, signature: request.signature, compose: request.compose })
  const job = deps.journal.createJob({
    id: jobIdFor(request.runId, deps.journal),
    runId: request.runId,
    kind: request.kind,
    fromVersion: installed,
    toVersion: request.targetVersion,
    requestedBy: request.requestedBy,
    force: request.force,
    compose: request.compose,
    backup: request.backup,
    restoreBackupJobId: request.restoreBackupJobId,
    override: request.override,
    stops: stops.map(stop => ({ version: stop.version, compose: stop.compose })),
  })
  return { ok: true, job }
}
