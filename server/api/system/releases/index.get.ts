import type { ReleasesResponse } from '#layers/owlat-system/shared/schemas/release'

export default defineEventHandler(async (event): Promise<ReleasesResponse> => {
  await requirePlatformAdmin(event)
  return readReleases(useStore(), useReleaseSource(), useOwlatConfig().releaseCheck)
})
