import { pendingReleasesSchema } from '#layers/owlat-system/shared/schemas/release'

/**
 * `GET /api/system/releases/pending`: what an update to the newest release installs, newest
 * first, as the server computes it (the target included). Read again whenever a run starts or
 * ends, and when the running version, the channel or the offered release changes or a check ran.
 */
export function usePendingReleases() {
  const { status } = useSystemStatus()
  const { data, refresh, ...rest } = useSystemFetch('system-pending-releases', '/api/system/releases/pending', {
    parse: body => pendingReleasesSchema.parse(body),
    failure: 'Could not read the pending releases.',
  })

  // What the answer depends on; null until the status is first read (the fetch above covers that).
  const inputs = computed(() => {
    const s = status.value
    return s ? [s.currentVersion, s.channel, s.latest?.version, s.lastCheck.checkedAt].join('|') : null
  })
  watch(inputs, (now, before) => {
    if (before !== null) void refresh()
  })

  return { pending: data, refresh, ...rest }
}
