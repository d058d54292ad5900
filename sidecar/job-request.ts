/**
 * Admission of `POST /v1/jobs`, the one place every job passes, from any client: the body's
 * shape, the release it carries (verified here against the pinned key and the compose policy,
 * whatever the caller checked), the shared target rules (shared/targets.ts: channel, known
 * version, the rollback floor of every release undone, verified artifacts), one job at a time.
 */
import { randomUUID } from 'node:crypto'
import { checkComposePolicy, describePolicyViolations, type ComposePolicyOptions } from '../shared/compose-policy'
import { RELEASE_INDEX_CHECK_ID } from '../shared/node/checks/release-index'
import { effectiveKeys, evaluateIndex, judgeAgainstIndex } from '../shared/release-index'
import { sha256Hex, verifyManifest, verifyRelease, type ReleaseKeys } from '../shared/release-verify'
import { toRelease } from '../shared/releases/source'
import { jobRequestSchema, type Job, type SignedIndexBody } from '../shared/schemas/job'
import type { Release, ReleaseIndex, ReleaseTrust } from '../shared/schemas/release'
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
  /** The configured keys (OWLAT_RELEASE_PUBLIC_KEYS); those learned by rotation come from the journal. */
  releasePublicKey: readonly string[]
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

export type Carried = { ok: true, verified: Extract<ReturnType<typeof verifyRelease>, { ok: true }> } | { ok: false, reason: string }

/**
 * A release a job carries (its target or a required stop), judged as one: its signature against
 * the pinned key, the compose sha256, the compose policy, and the web version its compose file pins.
 */
export function verifyCarried(release: { manifestBytes: Buffer, signature: string, compose: string }, version: string, keys: ReleaseKeys, deps: Pick<AdmissionDeps, 'composePolicy'>): Carried {
  const verified = verifyRelease({ ...release, expectedVersion: version }, keys)
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

export type IndexJudgement = { ok: true, index: ReleaseIndex, expired: boolean, keys: string[], patch: Partial<ReleaseTrust> | null } | { ok: false, reason: string }

/**
 * A release index a client sent (with a job, or in an offline bundle) judged by this updater
 * itself, whatever the client checked: signed by a key it trusts, not older than one it accepted
 * (its own ratchet). What it teaches (the ratchet, rotated keys, a replay refused) is kept even
 * when the job is refused, unless `keep` is false: then only a refused replay is recorded, and the
 * caller saves `patch` once it keeps what came with the index. Returns the keys that count with it.
 */
export function judgeServedIndex(served: SignedIndexBody, deps: Pick<AdmissionDeps, 'journal' | 'releasePublicKey'>, where: string, keep = true): IndexJudgement {
  const trust = deps.journal.releaseTrust()
  const evaluation = evaluateIndex({ bytes: Buffer.from(served.text, 'utf8'), signature: served.signature }, trust, deps.releasePublicKey, where)
  const refused = evaluation.error || !evaluation.index
  if (evaluation.patch && (keep || refused)) deps.journal.saveReleaseTrust(evaluation.patch)
  if (refused) return { ok: false, reason: `release index refused: ${evaluation.error ?? 'none'}` }
  const learned = { ...trust, ...evaluation.patch }
  return { ok: true, index: evaluation.index!, expired: evaluation.expired, keys: effectiveKeys(deps.releasePublicKey, learned.learnedKeys, learned.retiredKeys), patch: keep ? null : evaluation.patch }
}

/** The job's index: judged as any, and not expired unless the admin overrode the freshness check. */
function judgeIndex(request: ReturnType<typeof jobRequestSchema.parse>, deps: AdmissionDeps): IndexJudgement {
  const judged = judgeServedIndex(request.index, deps, `a job sent by ${request.requestedBy.email ?? 'the updater'} (${request.requestedBy.via})`)
  // A rollback goes back to what ran; anything newer needs fresh release information.
  if (judged.ok && judged.expired && request.kind !== 'rollback' && !request.override?.checks.includes(RELEASE_INDEX_CHECK_ID)) {
    return { ok: false, reason: `release information is stale since ${judged.index.expiresAt} (index serial ${judged.index.serial}): no update starts on it unless the plan's ${RELEASE_INDEX_CHECK_ID} check is overridden with a reason` }
  }
  return judged
}

/** Validates a job request and, when it passes, keeps its release and journals the job as queued. */
export async function admitJob(body: unknown, deps: AdmissionDeps): Promise<Admission> {
  const parsed = jobRequestSchema.safeParse(body)
  if (!parsed.success) {
    return badRequest(`invalid job request: ${parsed.error.issues.map(i => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ')}`)
  }
  const request = parsed.data
  if (request.kind === 'rehearsal' && !deps.capabilities.rehearsals.supported) return badRequest(deps.capabilities.rehearsals.reason ?? 'this updater\'s driver cannot rehearse')
  const manifestBytes = decode(request.manifest)
  if (!manifestBytes) return badRequest('invalid job request: manifest: must be base64')

  const judged = judgeIndex(request, deps)
  if (!judged.ok) return badRequest(judged.reason)
  const { index, keys } = judged

  const target = verifyCarried({ manifestBytes, signature: request.signature, compose: request.compose }, request.targetVersion, keys, deps)
  if (!target.ok) return badRequest(target.reason)
  const verified = target.verified
  // Only a manifest the index lists, with these very bytes, and does not revoke.
  const unlisted = judgeAgainstIndex(index, request.targetVersion, sha256Hex(manifestBytes))
  if (unlisted) return badRequest(unlisted)

  // Required upgrade stops: each verified like the target, and the path as a whole must honour
  // every release's `minimumFrom`, whoever computed it (the sidecar runs one hop per version).
  if (request.stops.length > 0 && request.kind === 'rollback') return badRequest('only an update or its rehearsal goes through required upgrade stops')
  const stops: Array<{ version: string, compose: string, manifestBytes: Buffer, signature: string, release: Release }> = []
  for (const [i, stop] of request.stops.entries()) {
    const bytes = decode(stop.manifest)
    if (!bytes) return badRequest(`stops.${i}: manifest: must be base64`)
    const manifest = verifyManifest(bytes, stop.signature, keys)
    if (!manifest.ok) return badRequest(`stops.${i}: ${manifest.reason}`)
    const version = manifest.manifest.version
    const carried = verifyCarried({ manifestBytes: bytes, signature: stop.signature, compose: stop.compose }, version, keys, deps)
    if (!carried.ok) return badRequest(`required stop ${version}: ${carried.reason}`)
    const stopUnlisted = judgeAgainstIndex(index, version, sha256Hex(bytes))
    if (stopUnlisted) return badRequest(`required stop ${version}: ${stopUnlisted}`)
    stops.push({ version, compose: stop.compose, manifestBytes: bytes, signature: stop.signature, release: toRelease(carried.verified.manifest, null) })
  }
  const hops = [...stops.map(stop => stop.release), toRelease(verified.manifest, null)]

  // Floors come from the manifests the request carries and from every release this updater kept.
  const carried: Release[] = []
  for (const [i, signed] of request.releases.entries()) {
    const bytes = decode(signed.manifest)
    const manifest = bytes ? verifyManifest(bytes, signed.signature, keys) : { ok: false as const, reason: 'manifest: must be base64' }
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
