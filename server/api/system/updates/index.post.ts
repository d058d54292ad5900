import { updateBodySchema } from '#layers/owlat-system/shared/schemas/api'

export default defineEventHandler(async (event) => {
  const user = await requirePlatformAdmin(event)
  const { targetVersion, backup, retryFailed, ignoreChecks, reason } = await readValidatedBody(event, zodValidator(updateBodySchema))
  const accepted = await startRun('update', targetVersion, requestedByAdmin(user), { backup, restoreBackup: false, retryFailed, ignoreChecks, reason })
  setResponseStatus(event, 202)
  return accepted
})
