import { rollbackBodySchema } from '#layers/owlat-system/shared/schemas/api'

export default defineEventHandler(async (event) => {
  const user = await requirePlatformAdmin(event)
  const { targetVersion, restoreBackup, retryFailed, ignoreChecks, reason } = await readValidatedBody(event, zodValidator(rollbackBodySchema))
  // A rollback backs up the data it is about to leave like an update does.
  const accepted = await startRun('rollback', targetVersion, requestedByAdmin(user), { backup: true, restoreBackup, retryFailed, ignoreChecks, reason })
  setResponseStatus(event, 202)
  return accepted
})
