import { runIdParamsSchema, type Run } from '#layers/owlat-system/shared/schemas/api'

export default defineEventHandler(async (event): Promise<Run> => {
  await requirePlatformAdmin(event)
  const { id } = await getValidatedRouterParams(event, zodValidator(runIdParamsSchema))
  // The page polls this while a run is in flight: a store read (by run id or job id), which the reconciliation loop keeps
  // in step with the sidecar (every 500 ms while a run is active).
  const run = await findRun(useStore(), id)
  if (!run) {
    throw createError({ statusCode: 404, statusMessage: 'Not Found', message: `No update or rollback run ${id}` })
  }
  return run
})
