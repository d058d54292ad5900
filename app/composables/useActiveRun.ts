import { runSchema, type Run } from '#layers/owlat-system/shared/schemas/api'
import { isActiveStatus, isWebChanging } from '#layers/owlat-system/shared/run-state'
import { apiErrorMessage, isServerUnavailable } from '#layers/owlat-system/app/helpers/api-errors'

const POLL_INTERVAL_MS = 500
/** While the web is replaced (or away): the reload follows the updater's verdict within moments. */
const FAST_POLL_INTERVAL_MS = 150

/**
 * Follows one run: reads it, and keeps reading it every 500 ms while it is queued or running,
 * every 150 ms while it replaces the web or the web is away.
 * The web server goes away mid-run (the updater restarts it), so failures to reach it are
 * expected: they mark the server unreachable and polling simply goes on.
 */
export function useActiveRun(runId: MaybeRefOrGetter<string | null>) {
  const store = useSystemStore()
  const run = ref<Run | null>(null)
  const error = ref<string | null>(null)

  async function read(): Promise<void> {
    const id = toValue(runId)
    if (!id) return
    try {
      const body = await $fetch(`/api/system/updates/${encodeURIComponent(id)}`, { cache: 'no-store' })
      // A late answer about a run this page no longer follows is dropped.
      if (id !== toValue(runId)) return
      run.value = runSchema.parse(body)
      error.value = null
      store.setServerReachable(true)
    }
    catch (err) {
      if (id !== toValue(runId)) return
      if (isServerUnavailable(err)) store.setServerReachable(false)
      // 4xx (run unknown, signed out…) will not fix itself: say so, which stops the polling.
      else error.value = apiErrorMessage(err, 'Could not read the update run.')
    }
  }

  const interval = () => runPollInterval(run.value, store.serverReachable)
  const { restart } = useVisiblePoll(read, interval, () =>
    toValue(runId) !== null && error.value === null && (run.value === null || isActiveStatus(run.value.status)))

  watch(() => toValue(runId), () => {
    run.value = null
    error.value = null
    restart()
  })

  return { run, error }
}

/** How often a follower of `run` asks: fast while the web is being replaced, or is away. */
export function runPollInterval(run: Run | null, serverReachable: boolean): number {
  return (run !== null && isWebChanging(run)) || !serverReachable ? FAST_POLL_INTERVAL_MS : POLL_INTERVAL_MS
}
