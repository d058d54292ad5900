import { notificationPreferenceBodySchema, type NotificationPreferenceBody } from '#layers/owlat-system/shared/schemas/api'
import { UserNotFoundError } from '../../../utils/store/types'

/** Sets the signed-in admin's own notification preference: all, security or none. */
export default defineEventHandler(async (event): Promise<NotificationPreferenceBody> => {
  const user = await requirePlatformAdmin(event)
  const { notifications } = await readValidatedBody(event, zodValidator(notificationPreferenceBodySchema))
  try {
    const stored = await useStore().setNotificationPreference(user.id, notifications)
    return { notifications: stored.notifications }
  }
  catch (err) {
    if (!(err instanceof UserNotFoundError)) throw err
  }
  // A host app's admin: kept with the admin in the app's own users, through its directory.
  const keep = useOwlatAdminDirectory()?.setNotifications
  if (!keep) throw createError({ statusCode: 409, statusMessage: 'Conflict', message: 'This admin is not kept in the System & Updates store, and the app registers no admin directory that keeps a preference (defineOwlatAdminDirectory)' })
  await keep(user.id, notifications)
  return { notifications }
})
