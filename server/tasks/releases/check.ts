/**
 * Scheduled release check. Nitro runs it every 10 minutes (nuxt.config.ts); it asks the source
 * only when the configured, jittered interval is due and this replica claims it in the shared
 * store, so the cron's granularity never becomes the check rate. Also runnable by hand.
 */
type CheckTaskResult
  = | { checked: false }
    | { checked: true, releases: number, checkedAt: number | null, nextCheckAt: number | null, error: string | null }

export default defineTask({
  meta: {
    name: 'releases:check',
    description: 'Ask the release source for new releases when the check interval is due',
  },
  async run(): Promise<{ result: CheckTaskResult }> {
    const cache = await runScheduledCheck(useStore(), useReleaseSource(), useOwlatConfig().releaseCheck)
    if (!cache) return { result: { checked: false } }
    if (cache.error) console.warn(`[releases] ${cache.error}`)
    await notifyNewRelease(cache.releases)
    return { result: { checked: true, releases: cache.releases.length, checkedAt: cache.checkedAt, nextCheckAt: cache.nextCheckAt, error: cache.error } }
  },
})
