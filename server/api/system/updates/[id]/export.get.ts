import { runIdParamsSchema, type RunExport } from '#layers/owlat-system/shared/schemas/api'

/** One run with every step and its full log, as a JSON file to keep or attach to a report. */
export default defineEventHandler(async (event): Promise<RunExport> => {
  await requirePlatformAdmin(event)
  const { id } = await getValidatedRouterParams(event, zodValidator(runIdParamsSchema))
  // A rare read that must be complete: it joins (or runs) a sync rather than wait for the next one.
  await useReconciler().sync()
  const store = useStore()
  const run = await findRun(store, id)
  if (!run) {
    throw createError({ statusCode: 404, statusMessage: 'Not Found', message: `No update or rollback run ${id}` })
  }
  const name = `owlat-${run.kind}-${run.fromVersion}-to-${run.toVersion}-${run.id}.json`.replace(/[^\w.-]/g, '_')
  setResponseHeader(event, 'Content-Disposition', `attachment; filename="${name}"`)
  return { exportedAt: Date.now(), run, acknowledgement: await store.getAcknowledgement(run.id) }
})
