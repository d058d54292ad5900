/**
 * The banners every admin page shows: a release to install (dismissable unless it is a security
 * release), a run in flight, and a failed or rolled-back run until an admin acknowledges it; and
 * the one component an app puts in its layout for them, shown to platform admins only.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { SystemBanners, SystemRunBanner, SystemUpdateBanner } from '#components'
import type { SessionUser, SystemStatus } from '../../shared/schemas/api'
import { aRelease, aRun, aStatus, cleanUp, mount, serve } from './fixtures'

let current: SystemStatus

beforeEach(() => {
  useSystemStore().reset()
  serve('/api/system/status', () => current)
})

afterEach(cleanUp)

describe('SystemUpdateBanner', () => {
  it('offers the newest release, and a dismissal hides it', async () => {
    current = aStatus({ latest: aRelease('1.3.0') })
    const dismiss = serve('/api/system/notifications/dismiss', () => {
      current = { ...current, dismissed: true }
      return { ok: true }
    }, 'POST')
    const wrapper = await mount(SystemUpdateBanner)
    await vi.waitFor(() => expect(wrapper.find('[data-testid="update-banner"]').text()).toContain('Owlat 1.3.0 is available'))
    expect(wrapper.find('[data-testid="update-banner"]').attributes('data-severity')).toBe('normal')

    await wrapper.find('[data-testid="banner-dismiss"]').trigger('click')
    await vi.waitFor(() => expect(wrapper.find('[data-testid="update-banner"]').exists()).toBe(false))
    expect(dismiss.requests).toEqual([{ version: '1.3.0' }])
  })

  it('keeps a security release up whatever was dismissed, without a Dismiss button', async () => {
    current = aStatus({ latest: aRelease('1.3.1', { severity: 'security' }), dismissed: true })
    const wrapper = await mount(SystemUpdateBanner)
    await vi.waitFor(() => expect(wrapper.find('[data-testid="update-banner"]').attributes('data-severity')).toBe('security'))
    expect(wrapper.text()).toContain('This is a security release: update as soon as possible.')
    expect(wrapper.find('[data-testid="banner-dismiss"]').exists()).toBe(false)
  })

  it('says nothing while a run is in flight, or when there is nothing new', async () => {
    current = aStatus({ activeRun: aRun() })
    const wrapper = await mount(SystemUpdateBanner)
    await vi.waitFor(() => expect(useSystemStore().status).not.toBeNull())
    expect(wrapper.find('[data-testid="update-banner"]').exists()).toBe(false)

    useSystemStore().reset()
    current = aStatus({ latest: null })
    const again = await mount(SystemUpdateBanner)
    await vi.waitFor(() => expect(useSystemStore().status?.updateAvailable).toBe(false))
    expect(again.find('[data-testid="update-banner"]').exists()).toBe(false)
  })
})

describe('SystemRunBanner', () => {
  it('tells every admin about a run in flight, with who started it', async () => {
    // A CLI job has its own id, and that id is the one the run goes by everywhere.
    current = aStatus({ activeRun: aRun({ id: 'run-7', jobId: 'job-7', requestedBy: { email: null, via: 'cli' } }) })
    const wrapper = await mount(SystemRunBanner)
    await vi.waitFor(() => expect(wrapper.find('[data-testid="run-in-progress-banner"]').exists()).toBe(true))
    expect(wrapper.text()).toContain('Update to 1.3.0 in progress, started by the owlat CLI')
    expect(wrapper.find('[data-testid="run-in-progress-link"]').attributes('href')).toBe('/settings/system/runs/job-7')
  })

  it('keeps a rolled-back run up until an admin acknowledges it', async () => {
    const run = aRun({ id: 'run-8', status: 'rolled_back', endedAt: 9, reason: 'verify failed: web unhealthy' })
    current = aStatus({ unacknowledgedRun: run })
    const acknowledge = serve('/api/system/updates/run-8/acknowledge', () => {
      current = { ...current, unacknowledgedRun: null }
      return { runId: 'run-8', userId: 'u', email: 'admin@example.test', acknowledgedAt: 10 }
    }, 'POST')
    const wrapper = await mount(SystemRunBanner)
    const banner = () => wrapper.find('[data-testid="run-attention-banner"]')
    await vi.waitFor(() => expect(banner().exists()).toBe(true))
    expect(banner().attributes('data-status')).toBe('rolled_back')
    expect(banner().text()).toContain('Update to 1.3.0 was rolled back: 1.2.2 was restored')
    expect(banner().text()).toContain('verify failed: web unhealthy')

    await wrapper.find('[data-testid="run-attention-acknowledge"]').trigger('click')
    await vi.waitFor(() => expect(banner().exists()).toBe(false))
    expect(acknowledge.requests).toHaveLength(1)
  })
})

describe('SystemBanners', () => {
  const signedIn = (user: SessionUser | null) => serve('/api/owlat-system/user', () => ({ user }))

  beforeEach(() => {
    clearNuxtState(['owlat-system-user', 'owlat-system-user-loaded'])
    current = aStatus({ latest: aRelease('1.3.0'), activeRun: aRun({ requestedBy: { email: 'other@example.test', via: 'web' } }) })
  })

  it('shows a platform admin the release and the run in flight', async () => {
    signedIn({ id: 'host-1', email: 'admin@example.test', role: 'platform-admin' })
    const wrapper = await mount(SystemBanners)
    await vi.waitFor(() => expect(wrapper.find('[data-testid="run-in-progress-banner"]').exists()).toBe(true))
    expect(wrapper.find('[data-testid="system-banners"]').exists()).toBe(true)
  })

  it('shows a member and a signed-out visitor nothing, and asks nothing of /api/system/', async () => {
    for (const user of [{ id: 'host-2', email: 'member@example.test', role: 'member' } as const, null]) {
      clearNuxtState(['owlat-system-user', 'owlat-system-user-loaded'])
      const who = signedIn(user)
      const status = serve('/api/system/status', () => current)
      const wrapper = await mount(SystemBanners)
      await vi.waitFor(() => expect(who.requests).toHaveLength(1))
      expect(wrapper.find('[data-testid="system-banners"]').exists()).toBe(false)
      expect(status.requests).toHaveLength(0)
      cleanUp()
    }
  })

  it('shows nothing when it cannot tell who is signed in', async () => {
    serve('/api/owlat-system/user', () => {
      throw createError({ statusCode: 503, statusMessage: 'Service Unavailable' })
    })
    const wrapper = await mount(SystemBanners)
    expect(wrapper.find('[data-testid="system-banners"]').exists()).toBe(false)
  })
})
