import { planQuerySchema, type Plan } from '#layers/owlat-system/shared/schemas/api'

export default defineEventHandler(async (event): Promise<Plan> => {
  await requirePlatformAdmin(event)
  const { targetVersion, kind } = await getValidatedQuery(event, zodValidator(planQuerySchema))
  return buildPlan(kind, targetVersion)
})
