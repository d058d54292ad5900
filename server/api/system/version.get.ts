import type { VersionInfo } from '#layers/owlat-system/shared/schemas/api'

export default defineEventHandler(async (event): Promise<VersionInfo> => {
  await requireAdminOrSidecar(event)
  return { version: currentVersion(), buildId: currentBuildId() }
})
