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
    if (err instanceof UserNotFoundError) throw createError({ statusCode: 409, statusMessage: 'Conflict', message: 'This admin is not kept in the System & Updates store, so a preference cannot be stored for them' })
    throw err
  }
})
