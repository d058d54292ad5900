import { rehearsalBodySchema } from '#layers/owlat-system/shared/schemas/api'

/** The target on a throwaway copy of the data (kind `rehearsal`): production is never touched. */
export default defineEventHandler(async (event) => {
  const user = await requirePlatformAdmin(event)
  const { targetVersion } = await readValidatedBody(event, zodValidator(rehearsalBodySchema))
  // The copy is the rehearsal's own backup; a release that failed here may be rehearsed as it is.
  const accepted = await startRun('rehearsal', targetVersion, requestedByAdmin(user), { backup: true, restoreBackup: false })
  setResponseStatus(event, 202)
  return accepted
})
