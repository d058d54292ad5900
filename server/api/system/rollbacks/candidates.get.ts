import type { RollbackCandidates } from '#shared/schemas/api'

export default defineEventHandler(async (event): Promise<RollbackCandidates> => {
  await requirePlatformAdmin(event)
  return loadRollbackCandidates()
})
