import { apiErrorMessage } from '#layers/owlat-system/app/helpers/api-errors'
/** The page's client-side reads, by `useFetch` key: what a run starting or ending makes stale. */
export const SYSTEM_DATA_KEYS = ['system-health', 'system-history', 'system-pending-releases'] as const
export type SystemDataKey = (typeof SYSTEM_DATA_KEYS)[number]

/**
 * One of those reads: fetched in the browser only (the page renders its skeleton on the server),
 * parsed with the shared schema, refreshed by `refreshNuxtData(key)`.
 */
export function useSystemFetch<T>(key: SystemDataKey, url: string, options: {
  parse: (body: unknown) => T
  /** What the page says when the read fails for another reason than the server's own message. */
  failure: string
}) {
  const { data, error, status, refresh } = useFetch(url, {
    key,
    server: false,
    dedupe: 'defer',
    transform: options.parse,
  })
  return {
    data,
    error: computed(() => error.value ? apiErrorMessage(error.value, options.failure) : null),
    // `idle` is the moment before the client-only fetch starts: still loading, not empty.
    loading: computed(() => status.value === 'pending' || status.value === 'idle'),
    refresh,
  }
}
