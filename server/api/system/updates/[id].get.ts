import { runIdParamsSchema, type Run } from '#shared/schemas/api'

export default defineEventHandler(async (event): Promise<Run> => {
  await requirePlatformAdmin(event)
  const { id } = await getValidatedRouterParams(event, zodValidator(runIdParamsSchema))
  const run = await useStore().getRun(id)
  if (!run) {
    throw createError({ statusCode: 404, statusMessage: 'Not Found', message: `No update or rollback run ${id}` })
  }
  // The page polls this while a run is in flight: each read syncs it from the sidecar.
  return reconcileRun(run, useReconcileDeps())
})
