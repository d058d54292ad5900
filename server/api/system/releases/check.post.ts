import type { ReleasesResponse } from '#layers/owlat-system/shared/schemas/release'

// "Check now": asks the source even when the cache is fresh; a failure is recorded, not thrown.
export default defineEventHandler(async (event): Promise<ReleasesResponse> => {
  await requirePlatformAdmin(event)
  const answer = await refreshReleases(useStore(), useReleaseSource())
  await notifyNewRelease(answer.releases)
  return answer
})
