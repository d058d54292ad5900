import type { VersionInfo } from '#layers/owlat-system/shared/schemas/api'

export default defineEventHandler(async (event): Promise<VersionInfo> => {
  await requireAdminOrSidecar(event)
  // A web that is not warm yet does not claim its version: the page would reload into a cold server.
  assertWarm(event)
  return { version: currentVersion(), buildId: currentBuildId() }
})
