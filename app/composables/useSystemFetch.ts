import { apiErrorMessage, isServerUnavailable } from '#layers/owlat-system/app/helpers/api-errors'
/** The page's client-side reads, by `useFetch` key: what a run starting or ending makes stale. */
export const SYSTEM_DATA_KEYS = ['system-health', 'system-history', 'system-pending-releases', 'system-backups', 'system-schedule', 'system-settings', 'system-notification-preference'] as const
export type SystemDataKey = (typeof SYSTEM_DATA_KEYS)[number]

/**
 * One of those reads: fetched in the browser only (the page renders its skeleton on the server),
 * parsed with the shared schema, refreshed by `refreshNuxtData(key)`. A server that does not
 * answer is not this read's error: the page says so once (SystemConnectionNotice), the read
 * keeps what it had, and every read is done again as soon as the server answers.
 */
export function useSystemFetch<T>(key: SystemDataKey, url: string, options: {
  parse: (body: unknown) => T
  /** What the page says when the read fails for another reason than the server's own message. */
  failure: string
}) {
  const store = useSystemStore()
  const { data, error, status, refresh } = useFetch(url, {
    key,
    server: false,
    dedupe: 'defer',
    transform: options.parse,
    onResponse({ response }) {
      if (response.ok) store.setServerReachable(true)
    },
    onRequestError() {
      store.setServerReachable(false)
    },
    onResponseError({ response }) {
      if (isServerUnavailable({ response, status: response.status, data: response._data })) store.setServerReachable(false)
    },
  })
  const away = computed(() => error.value !== undefined && error.value !== null && isServerUnavailable(error.value))
  return {
    data,
    error: computed(() => error.value && !away.value ? apiErrorMessage(error.value, options.failure) : null),
    /** Nothing to show yet: loading, or waiting for a server that does not answer. */
    loading: computed(() => status.value === 'pending' || status.value === 'idle' || (away.value && data.value == null)),
    refresh,
  }
}
