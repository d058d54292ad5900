import { versionInfoSchema, type Run } from '#layers/owlat-system/shared/schemas/api'
import { isActiveStatus } from '#layers/owlat-system/shared/run-state'
import { isServerUnavailable } from '#layers/owlat-system/app/helpers/api-errors'

const POLL_INTERVAL_MS = 500

/** Where a document leaves, for the one it reloads into, which update it landed from ("what's new", once). */
export const LANDED_KEY = 'owlat-system:landed'

/**
 * Watches the web's own version while a followed run is in flight, and ends the run on the page:
 * - `succeeded`: reload as soon as the web answers the run's target version, so the admin lands
 *   on the new build (never earlier: a reload into a restarting server is a 502);
 * - `rolled_back` / `failed`: no reload, the running version did not change; refresh status,
 *   health and history instead.
 * A run counts when it was seen in flight or is the one the store follows (started here, or
 * active at load): the page may first see it already finished if the web was down meanwhile.
 * A document already on the target version never reloads, so there is no reload loop.
 */
export function useVersionWatch(run: Readonly<Ref<Run | null>>) {
  const store = useSystemStore()
  /** The version the web answered last, null until it answered once. */
  const webVersion = ref<string | null>(null)
  const seenInFlight = ref<string | null>(null)
  const endedRunId = ref<string | null>(null)
  const reloading = ref(false)

  const followed = computed(() => {
    const current = run.value
    return current !== null && (current.id === seenInFlight.value || current.id === store.activeRunId)
  })
  /** Succeeded, but this document still runs the version from before. */
  const awaitingNewVersion = computed(() =>
    followed.value
    && run.value?.status === 'succeeded'
    && store.pageVersion !== null
    && store.pageVersion !== run.value.toVersion,
  )
  const shouldPoll = computed(() =>
    !reloading.value
    && run.value !== null
    && (isActiveStatus(run.value.status) || awaitingNewVersion.value),
  )

  function reloadIfLanded(): void {
    if (reloading.value || !awaitingNewVersion.value || webVersion.value !== run.value?.toVersion) return
    reloading.value = true
    const { id, kind, fromVersion, toVersion } = run.value
    try {
      sessionStorage.setItem(LANDED_KEY, JSON.stringify({ runId: id, kind, fromVersion, toVersion }))
    }
    catch {
      // Storage refused (private mode, quota): the page still lands, only without "what's new".
    }
    window.location.reload()
  }

  async function readVersion(): Promise<void> {
    try {
      const info = versionInfoSchema.parse(await $fetch('/api/system/version', { cache: 'no-store' }))
      webVersion.value = info.version
      store.setServerReachable(true)
    }
    catch (err) {
      // Refused connections and gateway errors mean the web is (re)starting; anything else
      // is left to the run poll, which reports it.
      if (isServerUnavailable(err)) store.setServerReachable(false)
    }
    reloadIfLanded()
  }

  useVisiblePoll(readVersion, POLL_INTERVAL_MS, shouldPoll)

  watch(run, (current) => {
    if (!current || !import.meta.client) return
    if (isActiveStatus(current.status)) {
      seenInFlight.value = current.id
      return
    }
    reloadIfLanded()
    if (current.status !== 'succeeded' && followed.value && endedRunId.value !== current.id) {
      endedRunId.value = current.id
      void store.refreshAll()
    }
  })

  /** The run succeeded but the web does not answer its version yet. */
  const waitingForVersion = computed(() => awaitingNewVersion.value && webVersion.value !== run.value?.toVersion)

  return { webVersion, waitingForVersion, reloading, watching: shouldPoll }
}
