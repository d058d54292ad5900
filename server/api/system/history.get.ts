import { z } from 'zod'
import type { Run } from '#layers/owlat-system/shared/schemas/api'

const querySchema = z.object({ limit: z.coerce.number().int().min(1).max(200).default(50) })

export default defineEventHandler(async (event): Promise<{ runs: Run[] }> => {
  await requirePlatformAdmin(event)
  const { limit } = await getValidatedQuery(event, zodValidator(querySchema))
  // The reconciliation loop has adopted the runs started from the CLI and ended the ones that ended.
  return { runs: await useStore().listRuns(limit) }
})
