import { runIdParamsSchema, type RunAcknowledgement } from '#layers/owlat-system/shared/schemas/api'

/** Clears the failed / rolled-back banner for every admin; the first acknowledgement stands. */
export default defineEventHandler(async (event): Promise<RunAcknowledgement> => {
  const user = await requirePlatformAdmin(event)
  const { id } = await getValidatedRouterParams(event, zodValidator(runIdParamsSchema))
  const store = useStore()
  const run = await findRun(store, id)
  if (!run) {
    throw createError({ statusCode: 404, statusMessage: 'Not Found', message: `No update or rollback run ${id}` })
  }
  if (run.status !== 'failed' && run.status !== 'rolled_back') {
    throw createError({ statusCode: 400, statusMessage: 'Bad Request', message: `Run ${id} is ${run.status}: only failed or rolled-back runs are acknowledged` })
  }
  return store.acknowledgeRun(run.id, { userId: user.id, email: user.email })
})
