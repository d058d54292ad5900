/**
 * Reconciliation on a schedule instead of in every read: the status, run and history routes read
 * the store, and this loop keeps the store true to the sidecar's journal (syncFromSidecar) every
 * `activeMs` while a run is active and every `idleMs` otherwise, so a run started from the CLI
 * shows within `idleMs`. One sync at a time; callers that must act on the freshest state (starting
 * a run) still call `sync()` themselves. Framework-independent.
 */
import type { Run } from '../../shared/schemas/api'
import { isWebChanging } from '../../shared/run-state'
import { syncFromSidecar, type ReconcileDeps } from './runs'

export interface ReconcilerOptions {
  /** How often to sync while a run is active (the page follows it every 500 ms). */
  activeMs?: number
  /** How often to sync otherwise (how soon a run started elsewhere shows). */
  idleMs?: number
  /**
   * How often while the run replaces the web (`isWebChanging`): the new web learns that its own
   * verify passed, and the page reloads onto it, within this much of the updater's verdict.
   */
  webChangingMs?: number
  log?: (line: string) => void
}

export interface Reconciler {
  /** Syncs now, or joins the sync in progress; resolves with the active run afterwards. */
  sync(): Promise<Run | null>
  start(): void
  stop(): void
}

export const RECONCILE_ACTIVE_MS = 500
export const RECONCILE_IDLE_MS = 2000
export const RECONCILE_WEB_CHANGING_MS = 150

export function createReconciler(deps: () => ReconcileDeps, opts: ReconcilerOptions = {}): Reconciler {
  const activeMs = opts.activeMs ?? RECONCILE_ACTIVE_MS
  const idleMs = opts.idleMs ?? RECONCILE_IDLE_MS
  const webChangingMs = opts.webChangingMs ?? RECONCILE_WEB_CHANGING_MS
  const log = opts.log ?? (line => console.warn(line))
  const knownJobs = new Set<string>()
  let inFlight: Promise<Run | null> | null = null
  let timer: NodeJS.Timeout | null = null
  let running = false
  let failing = false

  function sync(): Promise<Run | null> {
    inFlight ??= syncFromSidecar({ ...deps(), knownJobs }).finally(() => {
      inFlight = null
    })
    return inFlight
  }

  async function tick(): Promise<void> {
    let active: Run | null = null
    try {
      active = await sync()
      if (failing) log('[runs] reconciliation works again')
      failing = false
    }
    catch (err) {
      // The store is unreachable (Convex down): said once per outage, retried on the schedule.
      if (!failing) log(`[runs] reconciliation failed: ${err instanceof Error ? err.message : String(err)}`)
      failing = true
    }
    const next = !active ? idleMs : isWebChanging(active) ? webChangingMs : activeMs
    if (running) timer = setTimeout(() => void tick(), next).unref()
  }

  return {
    sync,
    start() {
      if (running) return
      running = true
      void tick()
    },
    stop() {
      running = false
      if (timer) clearTimeout(timer)
      timer = null
    },
  }
}
