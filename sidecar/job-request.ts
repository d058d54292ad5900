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

/** Validates a job request and, when it passes, keeps its release and journals the job as queued. */
export async function admitJob(body: unknown, deps: AdmissionDeps): Promise<Admission> {
  const parsed = jobRequestSchema.safeParse(body)
  if (!parsed.success) {
    return badRequest(`invalid job request: ${parsed.error.issues.map(i => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ')}`)
  }
  const request = parsed.data
  const manifestBytes = decode(request.manifest)
  if (!manifestBytes) return badRequest('invalid job request: manifest: must be base64')

  const verified = verifyRelease({ manifestBytes, signature: request.signature, compose: request.compose, expectedVersion: request.targetVersion }, deps.releasePublicKey)
  if (!verified.ok) return badRequest(verified.reason)
  // A signed release is still refused when its compose file would hand a container the host.
  const policy = checkComposePolicy(request.compose, deps.composePolicy)
  if (!policy.ok) return badRequest(describePolicyViolations(policy.violations))

  let composeVersion: string
  try {
    composeVersion = parseCompose(request.compose).version
  }
  catch (err) {
    return badRequest((err as Error).message)
  }
  if (composeVersion !== request.targetVersion) {
    return badRequest(`the compose file pins web ${composeVersion}, not ${request.targetVersion}`)
  }

  // Floors come from the manifests the request carries and from every release this updater kept.
  const carried: Release[] = []
  for (const [i, signed] of request.releases.entries()) {
    const bytes = decode(signed.manifest)
    const manifest = bytes ? verifyManifest(bytes, signed.signature, deps.releasePublicKey) : { ok: false as const, reason: 'manifest: must be base64' }
    if (!manifest.ok) return badRequest(`releases.${i}: ${manifest.reason}`)
    carried.push(toRelease(manifest.manifest, 'only its manifest came with the job'))
  }
  const releases = byVersion(carried, await deps.archive.releases(), [toRelease(verified.manifest, null)])
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
  })
  return { ok: true, job }
}
