import { releasesResponseSchema } from '#shared/schemas/release'

/** `GET /api/system/releases`: every known release, read again whenever a run ended. */
export function useSystemReleases() {
  const store = useSystemStore()
  const { data, error, refresh } = useFetch('/api/system/releases', {
    key: 'system-releases',
    server: false,
    dedupe: 'defer',
    transform: (body: unknown) => releasesResponseSchema.parse(body),
  })

  watch(() => store.revision, () => refresh())

  return {
    releases: computed(() => data.value?.releases ?? []),
    error: computed(() => error.value ? apiErrorMessage(error.value, 'Could not read the releases.') : null),
    refresh,
  }
}
