import { healthResponseSchema } from '#shared/schemas/api'

/** `GET /api/system/health`, read again whenever the store says a run ended. */
export function useSystemHealth() {
  const store = useSystemStore()
  const { data, error, status, refresh } = useFetch('/api/system/health', {
    key: 'system-health',
    server: false,
    dedupe: 'defer',
    transform: (body: unknown) => healthResponseSchema.parse(body),
  })

  watch(() => store.revision, () => refresh())

  return {
    health: data,
    error: computed(() => error.value ? apiErrorMessage(error.value, 'Could not read service health.') : null),
    // `idle` is the moment before the client-only fetch starts: still loading, not "no services".
    loading: computed(() => status.value === 'pending' || status.value === 'idle'),
    refresh,
  }
}
