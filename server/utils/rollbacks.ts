/**
 * What a rollback from the running version may target, read from the release cache, the history
 * and the sidecar (whether its driver restores data, and which backups its jobs took). Behind
 * `GET /api/system/rollbacks/candidates` and `POST /api/system/rollbacks`, so the dialog offers
 * exactly what the route accepts.
 */
import type { RollbackCandidates } from '#layers/owlat-system/shared/schemas/api'
import type { DriverBackups, JobBackup } from '#layers/owlat-system/shared/schemas/job'
import { readReleases } from './releases'
import { syncFromSidecar } from './runs'
import { leavingRun, rollbackAvailability, rollbackCandidates } from '../../shared/targets'
import { committedVersion } from './system-status'

/** Far more runs than an instance makes in years of updates; older ones cannot matter to a rollback. */
export const ROLLBACK_HISTORY_LIMIT = 500

async function driverBackups(): Promise<DriverBackups | null> {
  try {
    return (await useSidecar().health()).backups
  }
  catch {
    // Unreachable: no backup can be offered, and the page says why from the health read.
    return null
  }
}

export async function loadRollbackCandidates(): Promise<RollbackCandidates> {
  const store = useStore()
  const active = await syncFromSidecar(useReconcileDeps())
  const [{ releases }, { channel }, runs, backups] = await Promise.all([
    readReleases(store, useReleaseSource()),
    store.getSettings(),
    store.listRuns(ROLLBACK_HISTORY_LIMIT),
    driverBackups(),
  ])
  const running = committedVersion(active)
  const backupsSupported = backups?.supported === true
  const jobBackups = new Map<string, JobBackup>()
  if (backupsSupported) {
    // Only the run that last left each version can hold the backup a rollback to it restores.
    const versions = new Set(runs.map(r => r.fromVersion))
    const jobIds = [...versions].map(v => leavingRun(v, runs)?.jobId).filter((id): id is string => !!id)
    await Promise.all(jobIds.map(async (jobId) => {
      const job = await useSidecar().getJob(jobId).catch(() => null)
      if (job?.backup) jobBackups.set(jobId, job.backup)
    }))
  }
  const candidates = rollbackCandidates({ currentVersion: running, channel, releases, runs, backupsSupported, jobBackups })
  return {
    currentVersion: running,
    backups,
    candidates,
    unavailableReason: rollbackAvailability({ currentVersion: running, channel, releases, runs }).reason,
  }
}
