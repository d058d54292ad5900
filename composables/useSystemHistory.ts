import { historySchema, type Run } from '#shared/schemas/api'

/** `GET /api/system/history`, newest first, read again whenever the store says a run ended. */
export function useSystemHistory() {
  const store = useSystemStore()
  const { data, error, status, refresh } = useFetch('/api/system/history', {
    key: 'system-history',
    server: false,
    dedupe: 'defer',
    transform: (body: unknown): Run[] =>
      [...historySchema.parse(body).runs].sort((a, b) => b.startedAt - a.startedAt),
  })

  watch(() => store.revision, () => refresh())

  return {
    runs: computed<Run[]>(() => data.value ?? []),
    error: computed(() => error.value ? apiErrorMessage(error.value, 'Could not read the update history.') : null),
    // `idle` is the moment before the client-only fetch starts: still loading, not "no updates".
    loading: computed(() => status.value === 'pending' || status.value === 'idle'),
    refresh,
  }
}
