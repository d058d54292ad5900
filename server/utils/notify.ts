/**
 * Notifications from the web (issue 17): what happened becomes one record, queued in the store's
 * outbox for every webhook URL and every platform admin whose preference wants it, and delivered
 * by the process's `Outbox` (server/plugins/notifications.ts starts it). Each record's id is
 * derived from what it reports (a version, a run), so raising the same news twice, from two
 * replicas or two reads, delivers it once per target.
 */
import { createNotification, DEFAULT_NOTIFICATION_PREFERENCE, type NotificationDataInput, type NotificationEvent, type NotificationInstance, type NotificationPreference } from '#layers/owlat-system/shared/notifications'
import { createDeliverer, notificationTargets, notifyConfigFromEnv, type NotifyConfig } from '#layers/owlat-system/shared/node/notify/notifier'
import { Outbox } from '#layers/owlat-system/shared/node/notify/outbox'
import type { Run } from '#layers/owlat-system/shared/schemas/api'
import type { Release } from '#layers/owlat-system/shared/schemas/release'
import { newestApplicable } from '#layers/owlat-system/shared/version'

/** How often the outbox looks for due deliveries (and at once after news is queued). */
export const NOTIFY_INTERVAL_MS = 3_000

let config: NotifyConfig | undefined
let outbox: Outbox | undefined

/** OWLAT_WEBHOOK_URLS, OWLAT_WEBHOOK_SECRET, OWLAT_SMTP_URL, OWLAT_SMTP_FROM; throws naming a bad one. */
export function useNotifyConfig(): NotifyConfig {
  config ??= notifyConfigFromEnv(process.env)
  return config
}

export function useOutbox(): Outbox {
  outbox ??= new Outbox({
    store: useStore().outbox,
    deliver: createDeliverer(useNotifyConfig(), { systemPath: useRuntimeConfig().public.owlatSystem.path }),
    // The target is a URL whose path may be its secret, or an admin's address: named by kind only.
    onFailure: (delivery, error, gaveUp) => console.warn(`[notify] ${delivery.notification.event} to a ${delivery.target.startsWith('mailto:') ? 'mailbox' : 'webhook'} failed${gaveUp ? ' for the last time' : ''}: ${error}`),
    onError: line => console.warn(`[notify] ${line}`),
  })
  return outbox
}

/** Stops delivering (server shutdown); a pass in flight finishes. */
export async function stopOutbox(): Promise<void> {
  const open = outbox
  outbox = undefined
  await open?.stop()
}

function instance(): NotificationInstance {
  return { name: process.env.OWLAT_INSTANCE_NAME?.trim() || 'Owlat', url: useOwlatConfig().origins?.[0] ?? null, version: currentVersion() }
}

/** Who is mailed: the app's admin directory where it registers one (a host app), else the store's platform admins. */
async function platformAdmins(): Promise<Array<{ email: string, preference: NotificationPreference }>> {
  const directory = useOwlatAdminDirectory()
  if (directory) {
    return (await listDirectoryAdmins(directory)).map(a => ({ email: a.email, preference: a.notifications ?? DEFAULT_NOTIFICATION_PREFERENCE }))
  }
  return (await useStore().listUsers()).filter(u => u.role === 'platform-admin').map(u => ({ email: u.email, preference: u.notifications }))
}

/**
 * Queues `event` for every target that wants it. Never throws: news that cannot be queued is
 * logged, and whatever raised it (an update, a release check) goes on.
 */
export async function raiseNotification<E extends NotificationEvent>(event: E, data: NotificationDataInput<E>, id: string): Promise<void> {
  try {
    const settings = useNotifyConfig()
    if (!settings.webhooks && !settings.mail) return
    const admins = settings.mail ? await platformAdmins() : []
    const targets = notificationTargets(settings, event, admins)
    if (targets.length === 0) return
    await useOutbox().enqueue(createNotification(event, data, { instance: instance(), id }), targets)
  }
  catch (err) {
    console.warn(`[notify] could not queue ${event}: ${err instanceof Error ? err.message : String(err)}`)
  }
}

const ENDED = { succeeded: 'update-succeeded', rolled_back: 'update-rolled-back', failed: 'update-failed' } as const

/** An update or rollback started and, once it ended, how: once per run (the ids are the run's). */
export async function notifyRun(run: Run): Promise<void> {
  if (run.kind !== 'update' && run.kind !== 'rollback') return
  const data = { runId: run.id, kind: run.kind, fromVersion: run.fromVersion, toVersion: run.toVersion, via: run.requestedBy.via, requestedBy: run.requestedBy.email }
  await raiseNotification('update-started', data, `run:${run.id}:started`)
  if (run.status === 'succeeded') await raiseNotification(ENDED.succeeded, data, `run:${run.id}:ended`)
  else if (run.status === 'rolled_back' || run.status === 'failed') await raiseNotification(ENDED[run.status], { ...data, reason: run.reason ?? 'no reason recorded' }, `run:${run.id}:ended`)
}

/** The newest release this instance is offered, once per version (a release check found it). */
export async function notifyNewRelease(releases: readonly Release[]): Promise<void> {
  const { channel } = await useStore().getSettings()
  const running = currentVersion()
  const latest = newestApplicable(releases.filter(r => r.verified), running, channel)
  if (!latest) return
  const event = latest.severity === 'security' ? 'security-release-available' : 'release-available'
  await raiseNotification(event, { version: latest.version, currentVersion: running, channel, severity: latest.severity, publishedAt: latest.publishedAt }, `release:${latest.version}`)
}
