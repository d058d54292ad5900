import { settingsChangeBy, settingsPatchSchema, type Settings } from '#layers/owlat-system/shared/schemas/api'

export default defineEventHandler(async (event): Promise<Settings> => {
  const user = await requirePlatformAdmin(event)
  const body = await readValidatedBody(event, zodValidator(settingsPatchSchema))
  return useStore().updateSettings(settingsChangeBy(body, user.email), user.email)
})
