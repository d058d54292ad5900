import type { NotificationPreferenceBody } from '#layers/owlat-system/shared/schemas/api'
import { DEFAULT_NOTIFICATION_PREFERENCE } from '#layers/owlat-system/shared/notifications'

/** The signed-in admin's own notification preference (issue 17). */
export default defineEventHandler(async (event): Promise<NotificationPreferenceBody> => {
  const user = await requirePlatformAdmin(event)
  // A host app's admins may live outside this store: they have the default until they choose.
  const stored = await useStore().getUserById(user.id)
  return { notifications: stored?.notifications ?? DEFAULT_NOTIFICATION_PREFERENCE }
})
