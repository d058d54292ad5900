/**
 * Starting an update or a rollback: check the target, open the run (the store refuses a second
 * active one), verify the artifacts as they are now, hand the job to the sidecar, attach its id.
 */
import { verifyRelease, type ReleaseArtifacts } from '#shared/release-verify'
import type { RunKind } from '#shared/run-state'
import type { Run, SessionUser } from '#shared/schemas/api'
import { ReleaseNotFoundError } from './release-source'
import { readReleases } from './releases'
import { reconcileActiveRun } from './runs'
import { SidecarRejectedError, SidecarUnreachableError } from './sidecar'
import { ActiveRunError } from './store/types'
import { checkTarget } from './targets'

function badRequest(message: string) {
  return createError({ statusCode: 400, statusMessage: 'Bad Request', message })
}

function dispatchFailure(err: unknown): { statusCode: number, reason: string } {
  if (err instanceof SidecarRejectedError) {
    // The sidecar's own 400 (a check failed) and 409 (a job is active) mean the same to our caller.
    return { statusCode: [400, 409].includes(err.status) ? err.status : 502, reason: `the updater refused the job: ${err.message}` }
  }
  if (err instanceof SidecarUnreachableError) return { statusCode: 503, reason: err.message }
  return { statusCode: 500, reason: `dispatch failed: ${err instanceof Error ? err.message : String(err)}` }
}

export async function startRun(kind: RunKind, targetVersion: string, user: SessionUser): Promise<{ runId: string }> {
  const store = useStore()
  const source = useReleaseSource()
  // A run that ended while no one was watching must not block this one.
  await reconcileActiveRun(useReconcileDeps())

  const [{ releases }, { channel }] = await Promise.all([readReleases(store, source), store.getSettings()])
  const running = currentVersion()
  const check = checkTarget({ kind, targetVersion, currentVersion: running, channel, releases })
  if (!check.ok) throw badRequest(check.reason)

  // The cache says it verified; the files may have changed since. Dispatch only what verifies now.
  let artifacts: ReleaseArtifacts
  try {
    artifacts = await source.getArtifacts(targetVersion)
  }
  catch (err) {
    if (err instanceof ReleaseNotFoundError) throw badRequest(err.message)
    throw err
  }
  const verified = verifyRelease(artifacts, useOwlatConfig().releasePublicKey())
  if (!verified.ok) throw badRequest(`Release ${targetVersion} failed verification and cannot be installed: ${verified.reason}`)

  let run: Run
  try {
    run = await store.openRun({ kind, fromVersion: running, toVersion: targetVersion, requestedBy: { email: user.email, via: 'web' } })
  }
  catch (err) {
    if (err instanceof ActiveRunError) {
      throw createError({ statusCode: 409, statusMessage: 'Conflict', message: 'Another update or rollback is already in progress', data: { activeRunId: err.activeRunId } })
    }
    throw err
  }

  let jobId: string
  try {
    ({ jobId } = await useSidecar().createJob({
      runId: run.id,
      kind,
      targetVersion,
      manifest: Buffer.from(artifacts.manifestBytes).toString('base64'),
      signature: artifacts.signature.trim(),
      compose: artifacts.compose,
      requestedBy: { email: user.email, via: 'web' },
      force: false,
    }))
  }
  catch (err) {
    // Close the run now rather than leave it for reconciliation to time out.
    const { statusCode, reason } = dispatchFailure(err)
    await store.updateRun(run.id, { status: 'failed', reason })
    throw createError({ statusCode, message: reason, data: { runId: run.id } })
  }
  await store.attachJob(run.id, jobId)
  return { runId: run.id }
}
