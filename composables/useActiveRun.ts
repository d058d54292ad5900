import { runSchema, type Run } from '#shared/schemas/api'
import { isActiveStatus } from '#shared/run-state'

const POLL_INTERVAL_MS = 500

/**
 * Follows one run: reads it, and keeps reading it every 500 ms while it is queued or running.
 * The web server goes away mid-run (the updater restarts it), so failures to reach it are
 * expected: they mark the server unreachable and polling simply goes on.
 */
export function useActiveRun(runId: MaybeRefOrGetter<string | null>) {
  const store = useSystemStore()
  const run = ref<Run | null>(null)
  const error = ref<string | null>(null)

  let timer: ReturnType<typeof setTimeout> | undefined
  // Incremented whenever the followed id changes, so a late answer for an old run is dropped.
  let generation = 0

  function stop(): void {
    generation++
    clearTimeout(timer)
  }

  async function poll(id: string, gen: number): Promise<void> {
    let keepPolling = true
    try {
      const body = await $fetch(`/api/system/updates/${encodeURIComponent(id)}`, { cache: 'no-store' })
      if (gen !== generation) return
      run.value = runSchema.parse(body)
      error.value = null
      store.setServerReachable(true)
    }
    catch (err) {
      if (gen !== generation) return
      if (isServerUnavailable(err)) {
        store.setServerReachable(false)
      }
      else {
        // 4xx (run unknown, signed out…) will not fix itself: say so and stop asking.
        error.value = apiErrorMessage(err, 'Could not read the update run.')
        keepPolling = false
      }
    }
    if (run.value && !isActiveStatus(run.value.status)) keepPolling = false
    if (keepPolling) timer = setTimeout(() => poll(id, gen), POLL_INTERVAL_MS)
  }

  watch(() => toValue(runId), (id, previous) => {
    stop()
    if (id !== previous) {
      run.value = null
      error.value = null
    }
    if (id && import.meta.client) void poll(id, generation)
  }, { immediate: true })

  onScopeDispose(stop)

  return { run, error }
}
