import { settingsSchema, type Settings } from '#layers/owlat-system/shared/schemas/api'

export default defineEventHandler(async (event): Promise<Settings> => {
  const user = await requirePlatformAdmin(event)
  const body = await readValidatedBody(event, zodValidator(settingsSchema))
  return useStore().updateSettings(body, user.email)
})
