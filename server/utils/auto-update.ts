/**
 * The automatic update scheduler (issue 17): on each tick it reads the policy, the releases and
 * the runs, asks the core (shared/auto-update.ts) what is due, claims the slot in the store so one
 * replica acts, and starts the update exactly as an admin's click does (`startRun`: the same
 * target check, plan, path and watch), as `requestedBy: { via: 'schedule' }`. Any failing check
 * stops it, without override, and the admins hear which. The clock is a parameter.
 */
import { describeNextAutomaticUpdate, planAutomaticUpdate, type AutomaticUpdatePlan } from '#layers/owlat-system/shared/auto-update'
import type { RequestedBy } from '#layers/owlat-system/shared/schemas/common'
import type { PlanCheck, ScheduleAnswer, Settings } from '#layers/owlat-system/shared/schemas/api'
import { readReleases } from './releases'
import { ROLLBACK_HISTORY_LIMIT } from './rollbacks'
import { committedVersion } from './system-status'

export const SCHEDULE_REQUESTER: RequestedBy = { email: null, via: 'schedule' }

export async function automaticUpdatePlan(now: number): Promise<{ plan: AutomaticUpdatePlan, settings: Settings, currentVersion: string }> {
  const store = useStore()
  const [settings, { releases }, runs, active] = await Promise.all([
    store.getSettings(),
    // The clock given is for the plan; the release check keeps real time.
    readReleases(store, useReleaseSource(), useOwlatConfig().releaseCheck),
    store.listRuns(ROLLBACK_HISTORY_LIMIT),
    store.getActiveRun(),
  ])
  const running = committedVersion(active)
  return { plan: planAutomaticUpdate({ policy: settings, currentVersion: running, channel: settings.channel, releases, runs, now }), settings, currentVersion: running }
}

/** `GET /api/system/schedule`. */
export async function scheduleAnswer(now: number): Promise<ScheduleAnswer> {
  const { plan, settings } = await automaticUpdatePlan(now)
  const timeZone = settings.maintenanceWindow?.timeZone ?? 'UTC'
  return {
    plan,
    text: describeNextAutomaticUpdate(plan, timeZone, now),
    timeZone,
    autoUpdate: settings.autoUpdate,
    pausedUntil: settings.pausedUntil,
    pausedBy: settings.pausedBy,
    tickMs: useOwlatConfig().scheduleTickMs,
  }
}

export type TickOutcome
  = | { kind: 'idle', plan: AutomaticUpdatePlan }
    | { kind: 'busy', runId: string | null }
    | { kind: 'claimed-elsewhere', version: string }
    | { kind: 'started', version: string, runId: string }
    | { kind: 'skipped', version: string, reason: string, checks: PlanCheck[] }

const DAY_MS = 24 * 60 * 60_000

interface RefusalData { activeRunId?: string | null, checks?: PlanCheck[] }

/** One look: starts the due automatic update, if any, on this replica only when it wins the slot. */
export async function autoUpdateTick(now: number): Promise<TickOutcome> {
  // A run that ended unseen must not hold the slot, and one in flight means nothing is due.
  const active = await useReconciler().sync()
  if (active) return { kind: 'busy', runId: active.id }
  const { plan, currentVersion: running } = await automaticUpdatePlan(now)
  if (plan.kind !== 'due') return { kind: 'idle', plan }
  if (!await useStore().claimAutoUpdate(now, now + useOwlatConfig().scheduleTickMs)) return { kind: 'claimed-elsewhere', version: plan.version }
  try {
    const { runId } = await startRun('update', plan.version, SCHEDULE_REQUESTER, { backup: true, restoreBackup: false })
    console.info(`[auto-update] started the automatic update to ${plan.version} (${plan.why}), run ${runId}`)
    return { kind: 'started', version: plan.version, runId }
  }
  catch (err) {
    const data = (isError(err) ? err.data : undefined) as RefusalData | undefined
    if (isError(err) && err.statusCode === 409 && data?.activeRunId !== undefined) return { kind: 'busy', runId: data.activeRunId }
    const reason = err instanceof Error ? err.message : String(err)
    const checks = data?.checks ?? []
    console.warn(`[auto-update] the automatic update to ${plan.version} was skipped: ${reason}`)
    // Once per version and window opening (or day without a window), however often the tick retries.
    const occasion = plan.windowEndsAt ?? Math.floor(now / DAY_MS)
    await raiseNotification('auto-update-skipped', {
      version: plan.version,
      currentVersion: running,
      reason,
      checks: checks.map(c => ({ id: c.id, status: c.status, message: c.message })),
    }, `auto-update-skipped:${plan.version}:${occasion}`)
    return { kind: 'skipped', version: plan.version, reason, checks }
  }
}

let timer: ReturnType<typeof setInterval> | null = null
let ticking: Promise<unknown> | null = null

/** Ticks every `tickMs` until `stopAutoUpdateScheduler()`; one tick at a time. `now` is the clock. */
export function startAutoUpdateScheduler(tickMs: number, now: () => number = Date.now): void {
  if (timer) return
  timer = setInterval(() => {
    if (ticking) return
    ticking = autoUpdateTick(now())
      .catch(err => console.warn(`[auto-update] tick failed: ${err instanceof Error ? err.message : String(err)}`))
      .finally(() => {
        ticking = null
      })
  }, tickMs)
  timer.unref?.()
}

export function stopAutoUpdateScheduler(): void {
  if (timer) clearInterval(timer)
  timer = null
}
