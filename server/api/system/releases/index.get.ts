import type { ReleasesResponse } from '#shared/schemas/release'

export default defineEventHandler(async (event): Promise<ReleasesResponse> => {
  await requirePlatformAdmin(event)
  return readReleases(useStore(), useReleaseSource(), useOwlatConfig().releaseCheck)
})
