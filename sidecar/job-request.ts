/**
 * Admission of `POST /v1/jobs`: the body's shape, the release it carries (verified here against
 * the pinned key and the compose policy, whatever the caller checked), the kind's version rule,
 * one job at a time.
 */
import { randomUUID } from 'node:crypto'
import semver from 'semver'
import { checkComposePolicy, type ComposePolicyOptions } from '../shared/compose-policy'
import { verifyRelease } from '../shared/release-verify'
import { jobRequestSchema, type Job } from '../shared/schemas/job'
import { parseCompose } from './compose-file'
import type { Journal } from './journal'

const BASE64 = /^[A-Z0-9+/]+={0,2}$/i

export type Admission
  = | { ok: true, job: Job }
    | { ok: false, status: 400 | 409, error: string }

export interface AdmissionDeps {
  journal: Journal
  releasePublicKey: string
  installedVersion: string
  composePolicy: ComposePolicyOptions
}

function badRequest(error: string): Admission {
  return { ok: false, status: 400, error }
}

/** Validates a job request and, when it passes, journals the job as queued. */
export function admitJob(body: unknown, deps: AdmissionDeps): Admission {
  const parsed = jobRequestSchema.safeParse(body)
  if (!parsed.success) {
    return badRequest(`invalid job request: ${parsed.error.issues.map(i => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ')}`)
  }
  const request = parsed.data
  // Buffer.from silently skips non-base64 characters; a mangled manifest must not pass as another.
  if (!BASE64.test(request.manifest)) return badRequest('invalid job request: manifest: must be base64')

  const verified = verifyRelease({
    manifestBytes: Buffer.from(request.manifest, 'base64'),
    signature: request.signature,
    compose: request.compose,
    expectedVersion: request.targetVersion,
  }, deps.releasePublicKey)
  if (!verified.ok) return badRequest(verified.reason)
  // A signed release is still refused when its compose file would hand a container the host.
  const policy = checkComposePolicy(request.compose, deps.composePolicy)
  if (!policy.ok) return badRequest(`compose file violates the compose policy: ${policy.violations.join('; ')}`)

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

  const installed = deps.installedVersion
  const target = request.targetVersion
  if (request.kind === 'update' && !semver.gt(target, installed)) {
    return badRequest(`cannot update to ${target}: it is not newer than the installed ${installed}`)
  }
  if (request.kind === 'rollback' && !semver.lt(target, installed)) {
    return badRequest(`cannot roll back to ${target}: it is not older than the installed ${installed}`)
  }

  if (request.restoreBackupJobId !== null) {
    if (request.kind !== 'rollback') return badRequest('only a rollback can restore a data backup')
    const source = deps.journal.getJob(request.restoreBackupJobId)
    if (!source?.backup) return badRequest(`job ${request.restoreBackupJobId} left no data backup to restore`)
    if (source.fromVersion !== target) {
      return badRequest(`the backup of job ${source.id} holds the data of ${source.fromVersion}, not of ${target}`)
    }
  }

  const active = deps.journal.activeJobs()[0]
  if (active) return { ok: false, status: 409, error: `job ${active.id} (${active.kind} to ${active.toVersion}) is still ${active.status}` }

  const job = deps.journal.createJob({
    id: randomUUID(),
    runId: request.runId,
    kind: request.kind,
    fromVersion: installed,
    toVersion: target,
    requestedBy: request.requestedBy,
    force: request.force,
    compose: request.compose,
    backup: request.backup,
    restoreBackupJobId: request.restoreBackupJobId,
  })
  return { ok: true, job }
}
