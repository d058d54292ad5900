import { defineStore } from 'pinia'
import { statusSchema, type SystemStatus } from '#layers/owlat-system/shared/schemas/api'
import { apiErrorMessage, isServerUnavailable } from '#layers/owlat-system/app/helpers/api-errors'

/** What a part of the page may ask to be brought into view and focused (the banner, a started run). */
export type FocusTarget = 'release' | 'progress'

/**
 * State the banner (layout) and the System & Updates page share: the status read, the run the
 * page follows, whether the web server answers at all (it is restarted during updates), and
 * what should take the focus next.
 */
export const useSystemStore = defineStore('owlat-system', () => {
  const status = ref<SystemStatus | null>(null)
  /** A status read the server refused or got wrong; never set while the server is simply away. */
  const statusError = ref<string | null>(null)
  const statusLoading = ref(false)
  /** The run the page follows: the one in flight, or the last one started from this page. */
  const activeRunId = ref<string | null>(null)
  const serverReachable = ref(true)
  /** When the server last answered anything (unix ms); null before it did. */
  const lastAnswerAt = ref<number | null>(null)
  /**
   * The version this document was loaded with: the version of the web that answered the first
   * status read after load. A run that succeeded to another version means it must reload.
   */
  const pageVersion = ref<string | null>(null)
  const focusRequest = ref<{ target: FocusTarget, seq: number } | null>(null)
  /** The one status poller that asks (several components may start one; see useStatusPolling). */
  const pollOwner = shallowRef<symbol | null>(null)
  const nuxtApp = useNuxtApp()
  // On the server: the visitor's cookies go along, so the page renders with its status.
  const request = useRequestFetch()

  // Banner and page mount together: share one request instead of racing two.
  let pendingStatus: Promise<void> | null = null

  async function loadStatus(): Promise<void> {
    statusLoading.value = true
    try {
      const data = statusSchema.parse(await request('/api/system/status', { cache: 'no-store' }))
      const previous = status.value
      status.value = data
      // A run started or ended (maybe in another tab, by another admin, from the CLI): history,
      // health and pending releases are stale.
      if (previous && (previous.activeRun?.id ?? null) !== (data.activeRun?.id ?? null)) void refreshData()
      pageVersion.value ??= data.webVersion ?? data.currentVersion
      statusError.value = null
      setServerReachable(true)
      if (data.activeRun) activeRunId.value = data.activeRun.id
    }
    catch (err) {
      if (isServerUnavailable(err)) setServerReachable(false)
      else statusError.value = apiErrorMessage(err, 'Could not read the system status.')
    }
    finally {
      statusLoading.value = false
    }
  }

  function refreshStatus(): Promise<void> {
    pendingStatus ??= loadStatus().finally(() => {
      pendingStatus = null
    })
    return pendingStatus
  }

  /** The page's `useFetch` reads (health, history, pending releases), wherever they are mounted. */
  function refreshData(): Promise<void> {
    return nuxtApp.runWithContext(() => refreshNuxtData([...SYSTEM_DATA_KEYS]))
  }

  /** Status and the page's reads: everything a finished run may have changed. */
  async function refreshAll(): Promise<void> {
    await Promise.all([refreshData(), refreshStatus()])
  }

  function followRun(runId: string): void {
    activeRunId.value = runId
  }

  /**
   * Any read reports whether the server answered. When it answers again after it was away,
   * every read is done again, so no part of the page keeps what it saw while it was down.
   */
  function setServerReachable(reachable: boolean): void {
    if (reachable) lastAnswerAt.value = Date.now()
    if (serverReachable.value === reachable) return
    serverReachable.value = reachable
    if (reachable) void refreshAll()
  }

  /** Brings a part of the page into view and focuses it, once it is there. */
  function requestFocus(target: FocusTarget): void {
    focusRequest.value = { target, seq: (focusRequest.value?.seq ?? 0) + 1 }
  }

  /** Whether the run's outcome (failed / rolled back) still waits for an admin's acknowledgement. */
  function setAcknowledged(runId: string): void {
    if (status.value?.unacknowledgedRun?.id === runId) status.value = { ...status.value, unacknowledgedRun: null }
  }

  /** Forget everything on sign-out so the next user never sees this one's data (the document's version stays). */
  function reset(): void {
    status.value = null
    statusError.value = null
    activeRunId.value = null
    serverReachable.value = true
    lastAnswerAt.value = null
    focusRequest.value = null
  }

  return {
    status,
    statusError,
    statusLoading,
    activeRunId,
    serverReachable,
    lastAnswerAt,
    pageVersion,
    focusRequest,
    pollOwner,
    refreshStatus,
    refreshAll,
    followRun,
    setServerReachable,
    requestFocus,
    setAcknowledged,
    reset,
  }
})
