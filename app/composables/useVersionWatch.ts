import { versionInfoSchema, type Run } from '#layers/owlat-system/shared/schemas/api'
import { isActiveStatus } from '#layers/owlat-system/shared/run-state'
import { isServerUnavailable } from '#layers/owlat-system/app/helpers/api-errors'
import { landingVersion } from '#layers/owlat-system/app/helpers/run-display'
import { isRehearsal } from '#layers/owlat-system/shared/rehearsal'
import { runPollInterval } from '#layers/owlat-system/app/composables/useActiveRun'

/** Where a document leaves, for the one it reloads into, which update it landed from ("what's new", once). */
export const LANDED_KEY = 'owlat-system:landed'

/**
 * Watches the web's own version while a followed run is in flight, and keeps the page on the
 * version the run left running (`landingVersion`):
 * - past `verify` (the watch window) or `succeeded`: reload as soon as the web answers the run's
 *   target version, so the admin lands on the new build and watches the window from there (never
 *   earlier: a reload into a restarting server is a 502);
 * - `rolled_back`: a page that reloaded onto the target during the watch window reloads back onto
 *   the restored version once the web answers it; a page still on it only refreshes status,
 *   health and history. `failed`, or a rehearsal (which runs on a copy): no reload, refresh.
 * A run counts when it was seen in flight or is the one the store follows (started here, or
 * active at load): the page may first see it already finished if the web was down meanwhile.
 * A run it never saw counts once the status says the web runs the version that run landed on.
 * A document already on the landing version never reloads, so there is no reload loop.
 */
export function useVersionWatch(run: Readonly<Ref<Run | null>>) {
  const store = useSystemStore()
  /** The version the web answered last, null until it answered once. */
  const webVersion = ref<string | null>(null)
  const seenInFlight = ref<string | null>(null)
  const endedRunId = ref<string | null>(null)
  const reloading = ref(false)

  const landing = computed(() => run.value ? landingVersion(run.value) : null)
  /**
   * A run that ended while this page was open without it ever seeing the run in flight (a quick
   * one started elsewhere, between two status polls): the status poll says the web now runs the
   * version the run landed on, and this document does not.
   */
  const landedUnseen = computed(() => {
    const current = run.value
    return current !== null && !isActiveStatus(current.status) && landing.value !== null
      && store.status?.webVersion === landing.value && store.pageVersion !== null && store.pageVersion !== landing.value
  })
  const followed = computed(() => {
    const current = run.value
    return current !== null && (current.id === seenInFlight.value || current.id === store.activeRunId || landedUnseen.value)
  })
  /** The run settled on a version this document does not run. */
  const awaitingNewVersion = computed(() =>
    followed.value
    && landing.value !== null
    && store.pageVersion !== null
    && store.pageVersion !== landing.value,
  )
  const shouldPoll = computed(() =>
    !reloading.value
    && run.value !== null
    && (isActiveStatus(run.value.status) || awaitingNewVersion.value),
  )

  function reloadIfLanded(): void {
    if (reloading.value || !awaitingNewVersion.value || !run.value || webVersion.value !== landing.value) return
    reloading.value = true
    const { id, kind, fromVersion, toVersion } = run.value
    // "What's new" only for the version the run installs (it shows once that is committed).
    if (landing.value === toVersion) {
      try {
        sessionStorage.setItem(LANDED_KEY, JSON.stringify({ runId: id, kind, fromVersion, toVersion }))
      }
      catch {
        // Storage refused (private mode, quota): the page still lands, only without "what's new".
      }
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

  useVisiblePoll(readVersion, () => runPollInterval(run.value, store.serverReachable), shouldPoll)

  watch(run, (current) => {
    if (!current || !import.meta.client) return
    if (isActiveStatus(current.status)) {
      seenInFlight.value = current.id
      return
    }
    reloadIfLanded()
    // A rehearsal never reloads the page, whatever its end: what it found is read here.
    if ((current.status !== 'succeeded' || isRehearsal(current)) && followed.value && endedRunId.value !== current.id) {
      endedRunId.value = current.id
      void store.refreshAll()
    }
  })

  /** The run settled on a version the web does not answer yet. */
  const waitingForVersion = computed(() => awaitingNewVersion.value && webVersion.value !== landing.value)

  return { webVersion, waitingForVersion, reloading, watching: shouldPoll, landing }
}
