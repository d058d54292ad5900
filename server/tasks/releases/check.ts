// Scheduled release check (nitro.scheduledTasks, every 6 h by default); also runnable by hand.
export default defineTask({
  meta: {
    name: 'releases:check',
    description: 'Ask the release source for new releases and refresh the cache',
  },
  async run() {
    const cache = await refreshReleases(useStore(), useReleaseSource())
    if (cache.error) console.warn(`[releases] ${cache.error}`)
    return { result: { releases: cache.releases.length, checkedAt: cache.checkedAt, error: cache.error } }
  },
})
