import { settingsPatchSchema, type Settings } from '#layers/owlat-system/shared/schemas/api'

export default defineEventHandler(async (event): Promise<Settings> => {
  const user = await requirePlatformAdmin(event)
  const body = await readValidatedBody(event, zodValidator(settingsPatchSchema))
  // A freeze names who set it (the page shows it); lifting it clears the name.
  const pausedBy = body.pausedUntil === undefined ? undefined : body.pausedUntil === null ? null : user.email
  return useStore().updateSettings({ ...body, pausedBy }, user.email)
})
