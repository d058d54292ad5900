/**
 * Starting an update, a rollback or a rehearsal: check the target, open the run (the store refuses a second
 * active one), verify the artifacts as they are now, hand the job to the sidecar, attach its id.
 */
import { sha256Hex, verifyRelease, type ReleaseArtifacts, type ReleaseKeys } from '#layers/owlat-system/shared/release-verify'
import { judgeAgainstIndex } from '../../shared/release-index'
import type { RunKind } from '#layers/owlat-system/shared/run-state'
import type { Plan, Run, SessionUser } from '#layers/owlat-system/shared/schemas/api'
import { REHEARSAL_OVERRIDE_REFUSED, type RequestedBy, type CheckOverride } from '#layers/owlat-system/shared/schemas/common'
import { GitHubError } from '../../shared/releases/github'
import { floorManifests, jobRequestFor } from '../../shared/job-request'
import { ReleaseNotFoundError } from '../../shared/releases/source'
import { readIndexState, readReleases, refreshReleases } from './releases'
import { DispatchFailedError, dispatchRun, syncFromSidecar } from './runs'
import { SidecarRejectedError, SidecarUnreachableError } from './sidecar'
import { ActiveRunError } from './store/types'
import { loadRollbackCandidates, ROLLBACK_HISTORY_LIMIT } from './rollbacks'
import { checkTarget } from '../../shared/targets'
import { buildPlan, planFailures } from './plan'

function badRequest(message: string) {
  return createError({ statusCode: 400, statusMessage: 'Bad Request', message })
}

function dispatchStatusCode(err: unknown): number {
  // The sidecar's own 400 (a check failed) and 409 (a job is active) mean the same to our caller.
  if (err instanceof SidecarRejectedError) return [400, 409].includes(err.status) ? err.status : 502
  if (err instanceof SidecarUnreachableError) return 503
  return 500
}

function conflict(activeRunId: string | null) {
  return createError({ statusCode: 409, statusMessage: 'Conflict', message: 'Another update, rollback or rehearsal is already in progress', data: { activeRunId } })
}

/** How a run of `kind` is named in a sentence. */

export interface StartOptions {
  /** Back up the data before anything changes (skipped by drivers that cannot). */
  backup: boolean
  /** For a rollback: also restore the backup taken before the update that left the target, when there is one. */
  restoreBackup: boolean
  /** Install the target even though it failed on this instance before ("try again anyway"). */
  retryFailed?: boolean
  /** Go ahead although the plan has failing checks; needs `reason`, which the run records. */
  ignoreChecks?: boolean
  reason?: string
}

/** 409 with the plan's checks: a failing one stops the run unless the admin overrides it. */
function checksFailed(plan: Plan, message: string) {
  return createError({ statusCode: 409, statusMessage: 'Conflict', message, data: { checks: plan.checks, path: plan.path } })
}

/**
 * The artifacts of each required upgrade stop, verified as a target is (signature, compose sha256,
 * compose policy, listed and not revoked by the index): the updater runs one hop per stop.
 */
async function stopArtifacts(versions: string[], keys: ReleaseKeys, index: Awaited<ReturnType<typeof readIndexState>>): Promise<ReleaseArtifacts[]> {
  const source = useReleaseSource()
  const stops: ReleaseArtifacts[] = []
  for (const version of versions) {
    let artifacts: ReleaseArtifacts
    try {
      artifacts = await source.getArtifacts(version)
    }
    catch (err) {
      if (err instanceof GitHubError) throw createError({ statusCode: 502, statusMessage: 'Bad Gateway', message: `Could not download release ${version}, a required upgrade stop: ${err.message}` })
      throw badRequest(`Required upgrade stop ${version} cannot be read: ${(err as Error).message}`)
    }
    const verified = verifyRelease({ ...artifacts, expectedVersion: version }, keys, useComposePolicy())
    if (!verified.ok) throw badRequest(`Required upgrade stop ${version} failed verification, so the update cannot go through it: ${verified.reason}`)
    const unlisted = index.index ? judgeAgainstIndex(index.index, version, sha256Hex(artifacts.manifestBytes)) : index.error
    if (unlisted) throw badRequest(`Required upgrade stop ${version} cannot be installed: ${unlisted}`)
    stops.push(artifacts)
  }
  return stops
}

/** An admin's click on the page asks as this. */
export function requestedByAdmin(user: SessionUser): RequestedBy {
  return { email: user.email, via: 'web' }
}

/**
 * Starts a run for `requestedBy`: an admin's click (`requestedByAdmin`) or the automatic update
 * scheduler (server/utils/auto-update.ts), through the same checks, plan, path and watch.
 */
export async function startRun(kind: Exclude<RunKind, 'restore'>, targetVersion: string, requestedBy: RequestedBy, options: StartOptions): Promise<{ runId: string }> {
  const store = useStore()
  const source = useReleaseSource()
  const deps = useReconcileDeps()
  // A run that ended while no one was watching must not block this one, and one started from the
  // CLI must. While a run is active the running version is in flux, so that answer comes first;
  // `openRun` below still decides between concurrent requests.
  const active = await syncFromSidecar(deps)
  if (active) throw conflict(active.id)

  const [{ releases }, { channel }] = await Promise.all([readReleases(store, source, useOwlatConfig().releaseCheck), store.getSettings()])
  const running = currentVersion()
  let restoreBackupJobId: string | null = null
  // The same rule the sidecar enforces; here it explains, before anything is opened.
  const check = checkTarget({ kind, targetVersion, currentVersion: running, channel, releases, runs: await store.listRuns(ROLLBACK_HISTORY_LIMIT), retryFailed: options.retryFailed })
  // A target that failed here before says which run, so the page can offer "try again anyway".
  if (!check.ok) throw createError({ statusCode: 400, statusMessage: 'Bad Request', message: check.reason, data: check.failedHere ? { failedHere: check.failedHere } : undefined })
  if (kind === 'rollback') {
    // The dialog's own list: the backup it offers is the one restored.
    const { candidates } = await loadRollbackCandidates()
    const backup = candidates.find(c => c.version === targetVersion)?.backup ?? null
    if (options.restoreBackup && backup) restoreBackupJobId = backup.jobId
  }
  if (kind === 'rehearsal') {
    // The updater would refuse it; said here, no run is opened (and none recorded as a failed rehearsal).
    const rehearsals = await useSidecar().health().then(h => h.rehearsals, () => null)
    if (rehearsals && !rehearsals.supported) throw badRequest(`This updater's driver cannot rehearse: ${rehearsals.reason ?? 'no reason given'}`)
  }

  // The cache says it verified; the files may have changed since. Dispatch only what verifies now.
  let artifacts: ReleaseArtifacts & { expectedVersion: string }
  let floors: ReleaseArtifacts[]
  try {
    artifacts = { ...await source.getArtifacts(targetVersion), expectedVersion: targetVersion }
    // The manifests whose rollback floors the sidecar checks again.
    floors = await floorManifests(source, kind, running, check.undoes, await source.keys())
  }
  catch (err) {
    if (err instanceof ReleaseNotFoundError) throw badRequest(err.message)
    // GitHub did not answer (or rate-limited us): nothing was started, and the admin may retry.
    if (err instanceof GitHubError) throw createError({ statusCode: 502, statusMessage: 'Bad Gateway', message: `Could not download release ${targetVersion}: ${err.message}` })
    throw err
  }
  // The compose policy too: a signed release whose compose file it refuses never reaches the updater.
  const keys = await source.keys()
  const verified = verifyRelease(artifacts, keys, useComposePolicy())
  if (!verified.ok) throw badRequest(`Release ${targetVersion} failed verification and cannot be installed: ${verified.reason}`)
  // Only a manifest the newest accepted index lists, with these very bytes, and does not revoke.
  const index = await readIndexState(store, source)
  const unlisted = index.index ? judgeAgainstIndex(index.index, targetVersion, sha256Hex(artifacts.manifestBytes)) : index.error
  if (unlisted) throw badRequest(`Release ${targetVersion} cannot be installed: ${unlisted}`)
  // The plan's checks: a failing one stops the run here unless the admin ignores it with a reason.
  if (options.ignoreChecks && !options.reason) throw badRequest('Give a reason for ignoring the failing checks')
  const plan = await buildPlan(kind, targetVersion, { active: null, targetArtifacts: artifacts })
  const { failing, ignorable } = planFailures(plan)
  let override: CheckOverride | null = null
  if (failing.length > 0) {
    const list = failing.map(c => `${c.id}: ${c.message}`).join('; ')
    if (!ignorable) throw checksFailed(plan, `Checks that cannot be ignored fail: ${failing.filter(c => !c.ignorable).map(c => `${c.id}: ${c.message}`).join('; ')}`)
    if (kind === 'rehearsal') throw checksFailed(plan, `Failing checks stop this rehearsal: ${list}; ${REHEARSAL_OVERRIDE_REFUSED}.`)
    if (!options.ignoreChecks) throw checksFailed(plan, `Failing checks stop this ${kind}: ${list}. Fix them, or ignore them with a reason.`)
    override = { reason: options.reason!, checks: failing.map(c => c.id) }
  }

  // The required upgrade stops on the way, each judged now as the target was.
  const stops = await stopArtifacts(plan.path.slice(0, -1), keys, index)

  // The updater judges the same index again, against its own keys and ratchet. One it accepted
  // from the CLI may be newer than this web's: ask the source again rather than send an older one.
  let trust = await store.getReleaseTrust()
  const updaterSerial = (await useSidecar().health().catch(() => null))?.indexSerial ?? null
  if (updaterSerial !== null && (trust.highestSerial ?? 0) < updaterSerial) {
    await refreshReleases(store, source)
    trust = await store.getReleaseTrust()
    if ((trust.highestSerial ?? 0) < updaterSerial) {
      throw createError({ statusCode: 409, statusMessage: 'Conflict', message: `The updater has accepted a newer release index (serial ${updaterSerial}) than this web has (serial ${trust.highestSerial ?? 'none'}): check for releases again` })
    }
  }
  const signedIndex = trust.indexText && trust.indexSignature ? { text: trust.indexText, signature: trust.indexSignature } : null
  if (!signedIndex) throw badRequest(`Release ${targetVersion} cannot be installed: ${index.error ?? 'no signed release index has been accepted yet'}`)

  let run: Run
  try {
    run = await store.openRun({
      kind, fromVersion: running, toVersion: targetVersion, requestedBy, override,
      ...(plan.path.length > 1 ? { path: plan.path } : {}),
      // A rehearsal's report shows the plan it was opened with, as the plan route gave it.
      ...(kind === 'rehearsal' ? { plan } : {}),
    })
  }
  catch (err) {
    if (err instanceof ActiveRunError) throw conflict(err.activeRunId)
    throw err
  }

  try {
    await dispatchRun(run, jobRequestFor(artifacts, {
      runId: null,
      kind,
      requestedBy,
      force: false,
      backup: options.backup,
      restoreBackupJobId,
      channel,
      retryFailed: options.retryFailed === true,
      override,
      index: signedIndex,
    }, floors, stops), deps)
  }
  catch (err) {
    if (err instanceof DispatchFailedError) {
      throw createError({ statusCode: dispatchStatusCode(err.error), message: err.reason, data: { runId: run.id } })
    }
    throw err
  }
  return { runId: run.id }
}
