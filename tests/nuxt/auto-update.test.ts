/**
 * Issue 17 on the page: the Automatic updates card (policy, maintenance window, pause, save with
 * the server's 400 inline, the next planned update) and the admin's own notification preference.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { setResponseStatus, type H3Event } from 'h3'
import { SystemAutoUpdateCard, SystemNotificationsCard } from '#components'
import type { Settings } from '../../shared/schemas/api'
import { cleanUp, mount, serve } from './fixtures'

beforeEach(() => {
  useSystemStore().reset()
  clearNuxtData()
})

afterEach(cleanUp)

function someSettings(overrides: Partial<Settings> = {}): Settings {
  return { channel: 'stable', autoUpdate: 'off', maintenanceWindow: null, securityOutsideWindow: false, pausedUntil: null, pausedBy: null, ...overrides }
}

/** An error answer as h3 sends one: the status, and `{ statusMessage, message }` as the body. */
function refuse(event: H3Event, statusCode: number, statusMessage: string, message: string) {
  setResponseStatus(event, statusCode, statusMessage)
  return { statusCode, statusMessage, message }
}

function serveSchedule(text: string) {
  return serve('/api/system/schedule', () => ({ plan: { kind: 'none', reason: 'x' }, text, timeZone: 'UTC', autoUpdate: 'off', pausedUntil: null, pausedBy: null, tickMs: 60_000 }), 'GET')
}

describe('SystemAutoUpdateCard', () => {
  it('shows the stored policy and window, the pause with who set it, and the next planned update', async () => {
    serve('/api/system/settings', () => someSettings({
      autoUpdate: 'patch',
      maintenanceWindow: { days: ['sat', 'sun'], start: '03:00', durationMinutes: 120, timeZone: 'Europe/Berlin' },
      pausedUntil: Date.UTC(2026, 11, 24),
      pausedBy: 'admin@example.test',
    }), 'GET')
    serveSchedule('Automatic updates are paused until Thursday 24 December 01:00 Europe/Berlin by admin@example.test')
    const wrapper = await mount(SystemAutoUpdateCard)
    await vi.waitFor(() => expect(wrapper.find('[data-testid="auto-update-form"]').exists()).toBe(true))
    expect(wrapper.find('[data-testid="auto-update-policy"]').text()).toContain('Patch releases')
    expect(wrapper.find('[data-testid="window-day-sun"]').attributes('aria-checked')).toBe('true')
    expect(wrapper.find('[data-testid="window-day-mon"]').attributes('aria-checked')).toBe('false')
    expect((wrapper.find('[data-testid="window-start"]').element as HTMLInputElement).value).toBe('03:00')
    expect((wrapper.find('[data-testid="window-duration"]').element as HTMLInputElement).value).toBe('120')
    expect(wrapper.find('[data-testid="window-time-zone"]').text()).toContain('Europe/Berlin')
    expect(wrapper.find('[data-testid="pause-set-by"]').text()).toContain('by admin@example.test')
    await vi.waitFor(() => expect(wrapper.find('[data-testid="next-update"]').exists()).toBe(true))
    expect(wrapper.find('[data-testid="next-update"]').text()).toContain('paused until')
  })

  it('saves the window it was given, without touching the pause, and reads the plan again', async () => {
    let stored = someSettings({ autoUpdate: 'security' })
    serve('/api/system/settings', () => stored, 'GET')
    const put = serve('/api/system/settings', async (event) => {
      const { readBody } = await import('h3')
      const body = await readBody(event)
      stored = { ...stored, ...body }
      return stored
    }, 'PUT')
    let text = 'No automatic update planned: no release to install'
    const schedule = serve('/api/system/schedule', () => ({ plan: { kind: 'none', reason: 'x' }, text, timeZone: 'UTC', autoUpdate: 'off', pausedUntil: null, pausedBy: null, tickMs: 60_000 }), 'GET')
    const wrapper = await mount(SystemAutoUpdateCard)
    await vi.waitFor(() => expect(wrapper.find('[data-testid="auto-update-form"]').exists()).toBe(true))
    await vi.waitFor(() => expect(wrapper.find('[data-testid="next-update"]').text()).toContain('No automatic update planned'))

    await wrapper.find('[data-testid="window-enabled"]').trigger('click')
    await vi.waitFor(() => expect(wrapper.find('[data-testid="window-day-sat"]').exists()).toBe(true))
    await wrapper.find('[data-testid="window-day-sat"]').trigger('click')
    await wrapper.find('[data-testid="window-start"]').setValue('04:30')
    await wrapper.find('[data-testid="window-duration"]').setValue('90')
    text = '1.3.1 on Saturday 04:30 UTC, security release'
    await wrapper.find('[data-testid="auto-update-form"]').trigger('submit')

    await vi.waitFor(() => expect(wrapper.find('[data-testid="auto-update-saved"]').text()).toBe('Saved.'))
    expect(put.requests).toEqual([{
      autoUpdate: 'security',
      maintenanceWindow: { days: ['sat', 'sun'], start: '04:30', durationMinutes: 90, timeZone: 'UTC' },
      securityOutsideWindow: false,
    }])
    await vi.waitFor(() => expect(wrapper.find('[data-testid="next-update"]').text()).toBe('1.3.1 on Saturday 04:30 UTC, security release'))
    expect(schedule.requests.length).toBeGreaterThanOrEqual(2)
  })

  it('shows the server\'s 400 message inline and keeps what was typed', async () => {
    serve('/api/system/settings', () => someSettings({ maintenanceWindow: { days: ['sun'], start: '03:00', durationMinutes: 60, timeZone: 'UTC' } }), 'GET')
    serve('/api/system/settings', event => refuse(event, 400, 'Bad Request', 'Invalid request: maintenanceWindow.start: start must be HH:MM, from 00:00 to 23:59'), 'PUT')
    serveSchedule('No automatic update planned: automatic updates are off')
    const wrapper = await mount(SystemAutoUpdateCard)
    await vi.waitFor(() => expect(wrapper.find('[data-testid="window-start"]').exists()).toBe(true))
    await wrapper.find('[data-testid="window-start"]').setValue('25:00')
    await wrapper.find('[data-testid="auto-update-form"]').trigger('submit')
    await vi.waitFor(() => expect(wrapper.find('[data-testid="auto-update-error"]').exists()).toBe(true))
    expect(wrapper.find('[data-testid="auto-update-error"]').text()).toContain('maintenanceWindow.start: start must be HH:MM, from 00:00 to 23:59')
    expect((wrapper.find('[data-testid="window-start"]').element as HTMLInputElement).value).toBe('25:00')
    expect(wrapper.find('[data-testid="auto-update-saved"]').text()).toBe('')
  })

  it('sends a new pause, and lifting it sends null', async () => {
    let stored = someSettings({ autoUpdate: 'patch', pausedUntil: Date.UTC(2026, 11, 24), pausedBy: 'other@example.test' })
    serve('/api/system/settings', () => stored, 'GET')
    const put = serve('/api/system/settings', async (event) => {
      const { readBody } = await import('h3')
      const body = await readBody(event) as Partial<Settings>
      stored = { ...stored, ...body, pausedBy: body.pausedUntil === undefined ? stored.pausedBy : body.pausedUntil === null ? null : 'admin@example.test' }
      return stored
    }, 'PUT')
    serveSchedule('x')
    const wrapper = await mount(SystemAutoUpdateCard)
    await vi.waitFor(() => expect(wrapper.find('[data-testid="pause-lift"]').exists()).toBe(true))
    await wrapper.find('[data-testid="pause-lift"]').trigger('click')
    await wrapper.find('[data-testid="auto-update-form"]').trigger('submit')
    await vi.waitFor(() => expect(put.requests).toHaveLength(1))
    expect(put.requests[0]).toMatchObject({ pausedUntil: null })
    await vi.waitFor(() => expect(wrapper.find('[data-testid="pause-set-by"]').exists()).toBe(false))
  })
})

describe('SystemNotificationsCard', () => {
  it('shows the admin\'s preference and saves a new one through the preference route', async () => {
    serve('/api/system/notifications/preference', () => ({ notifications: 'all' }), 'GET')
    const put = serve('/api/system/notifications/preference', async (event) => {
      const { readBody } = await import('h3')
      return readBody(event)
    }, 'PUT')
    const wrapper = await mount(SystemNotificationsCard)
    await vi.waitFor(() => expect(wrapper.find('[data-testid="notifications-preference"]').exists()).toBe(true))
    const security = wrapper.findAll('[role="radio"]').find(r => r.attributes('value') === 'security')!
    expect(wrapper.findAll('[role="radio"]').find(r => r.attributes('value') === 'all')!.attributes('aria-checked')).toBe('true')
    await security.trigger('click')
    await vi.waitFor(() => expect(put.requests).toEqual([{ notifications: 'security' }]))
    await vi.waitFor(() => expect(security.attributes('aria-checked')).toBe('true'))
  })

  it('says why a preference cannot be stored', async () => {
    serve('/api/system/notifications/preference', () => ({ notifications: 'all' }), 'GET')
    serve('/api/system/notifications/preference', event => refuse(event, 409, 'Conflict', 'This admin is not kept in the System & Updates store, so a preference cannot be stored for them'), 'PUT')
    const wrapper = await mount(SystemNotificationsCard)
    await vi.waitFor(() => expect(wrapper.find('[role="radio"]').exists()).toBe(true))
    await wrapper.findAll('[role="radio"]').find(r => r.attributes('value') === 'none')!.trigger('click')
    await vi.waitFor(() => expect(wrapper.find('[data-testid="notifications-error"]').text()).toContain('not kept in the System & Updates store'))
  })
})
