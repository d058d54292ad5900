import { targetVersionBodySchema } from '#shared/schemas/api'

export default defineEventHandler(async (event) => {
  const user = await requirePlatformAdmin(event)
  const { targetVersion } = await readValidatedBody(event, zodValidator(targetVersionBodySchema))
  const accepted = await startRun('rollback', targetVersion, user)
  setResponseStatus(event, 202)
  return accepted
})
