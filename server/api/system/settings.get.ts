import type { Settings } from '#layers/owlat-system/shared/schemas/api'

export default defineEventHandler(async (event): Promise<Settings> => {
  await requirePlatformAdmin(event)
  return useStore().getSettings()
})
