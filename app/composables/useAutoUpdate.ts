import { notificationPreferenceBodySchema, settingsSchema, type Settings, type SettingsPatch } from '#layers/owlat-system/shared/schemas/api'
import type { NotificationPreference } from '#layers/owlat-system/shared/notifications'
import { z } from 'zod'

/** What the page reads of `GET /api/system/schedule`: the next automatic update in words, and any pause. */
const scheduleViewSchema = z.object({
  text: z.string(),
  timeZone: z.string(),
  pausedUntil: z.number().nullable(),
  pausedBy: z.string().nullable(),
})
export type ScheduleView = z.infer<typeof scheduleViewSchema>

/**
 * `GET`/`PUT /api/system/settings`: the automatic update policy (issue 17). `save` sends only the
 * fields given and throws the server's error (a 400 names the bad field); the next planned update
 * is read again after a save, since it follows from the policy.
 */
export function useAutoUpdateSettings() {
  // Through the page's reads, so a server that does not answer is the page's one notice, not this card's error.
  const { data, error, refresh } = useSystemFetch('system-settings', '/api/system/settings', {
    parse: body => settingsSchema.parse(body),
    failure: 'Could not read the automatic update settings.',
  })
  async function save(patch: SettingsPatch): Promise<Settings> {
    const saved = settingsSchema.parse(await $fetch('/api/system/settings', { method: 'PUT', body: patch }))
    data.value = saved
    await refreshNuxtData('system-schedule')
    return saved
  }
  return { settings: data, error, refresh, save }
}

/** `GET /api/system/schedule`: read again whenever a run starts or ends (the plan follows the version). */
export function useAutoUpdateSchedule() {
  const { data, ...rest } = useSystemFetch('system-schedule', '/api/system/schedule', {
    parse: body => scheduleViewSchema.parse(body),
    failure: 'Could not read the next automatic update.',
  })
  return { schedule: data, ...rest }
}

/** The signed-in admin's own notification preference (`/api/system/notifications/preference`). */
export function useNotificationPreference() {
  const { data, error } = useSystemFetch('system-notification-preference', '/api/system/notifications/preference', {
    parse: body => notificationPreferenceBodySchema.parse(body).notifications,
    failure: 'Could not read your notification preference.',
  })
  async function save(notifications: NotificationPreference): Promise<NotificationPreference> {
    const answer = await $fetch('/api/system/notifications/preference', { method: 'PUT', body: { notifications } })
    data.value = notificationPreferenceBodySchema.parse(answer).notifications
    return data.value
  }
  return { preference: data, error, save }
}
