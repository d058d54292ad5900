import type { NotificationPreferenceBody } from '#layers/owlat-system/shared/schemas/api'
import { DEFAULT_NOTIFICATION_PREFERENCE } from '#layers/owlat-system/shared/notifications'

/** The signed-in admin's own notification preference (issue 17). */
export default defineEventHandler(async (event): Promise<NotificationPreferenceBody> => {
  const user = await requirePlatformAdmin(event)
  const stored = await useStore().getUserById(user.id)
  if (stored) return { notifications: stored.notifications }
  // A host app's admins live in its own users: their choice is kept there, through its directory.
  const directory = useOwlatAdminDirectory()
  const listed = directory ? (await listDirectoryAdmins(directory)).find(a => a.id === user.id) : undefined
  return { notifications: listed?.notifications ?? DEFAULT_NOTIFICATION_PREFERENCE }
})
