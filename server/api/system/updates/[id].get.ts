import { runIdParamsSchema, type Run } from '#layers/owlat-system/shared/schemas/api'

export default defineEventHandler(async (event): Promise<Run> => {
  await requirePlatformAdmin(event)
  const { id } = await getValidatedRouterParams(event, zodValidator(runIdParamsSchema))
  // The page polls this while a run is in flight: each read syncs the runs from the sidecar (which
  // also adopts one the CLI started) before this one is read.
  await syncFromSidecar(useReconcileDeps())
  const run = await findRun(useStore(), id)
  if (!run) {
    throw createError({ statusCode: 404, statusMessage: 'Not Found', message: `No update or rollback run ${id}` })
  }
  return run
})
