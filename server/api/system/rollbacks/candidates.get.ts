import type { RollbackCandidates } from '#layers/owlat-system/shared/schemas/api'

export default defineEventHandler(async (event): Promise<RollbackCandidates> => {
  await requirePlatformAdmin(event)
  return loadRollbackCandidates()
})
