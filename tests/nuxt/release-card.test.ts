/**
 * The release card's Update now: the dialog lists what the server says the update installs
 * (`GET /api/system/releases/pending`), and confirming starts the run the page then follows.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { defineComponent, h } from 'vue'
import { SystemReleaseNotes, UApp } from '#components'
import { aRelease, aStatus, cleanUp, mount, serve, servePassingPlans } from './fixtures'

beforeEach(() => {
  useSystemStore().reset()
  clearNuxtData()
  // The update dialog reads the plan for its target: every check passes here.
  servePassingPlans()
})

afterEach(cleanUp)

describe('SystemReleaseNotes', () => {
  it('confirms the releases the server lists and follows the run it starts', async () => {
    const target = aRelease('1.4.0', { migratesData: true, rollbackFloor: '1.3.0' })
    serve('/api/system/status', () => aStatus({ latest: target }))
    const pending = serve('/api/system/releases/pending', () => ({ currentVersion: '1.2.2', target: '1.4.0', releases: [target, aRelease('1.3.0')], migratesData: true }))
    serve('/api/system/health', () => ({ reachable: true, driver: 'compose', version: '1.2.2', services: [], backups: { supported: true, reason: null }, rehearsals: { supported: true, reason: null }, error: null }))
    const start = serve('/api/system/updates', () => ({ runId: 'run-9' }), 'POST')

    // In an app shell, as the page is: useOverlay needs UApp's overlay provider.
    const wrapper = await mount(defineComponent({ setup: () => () => h(UApp, () => h(SystemReleaseNotes)) }))
    await vi.waitFor(() => expect(wrapper.find('[data-testid="release-version"]').text()).toBe('1.4.0'))
    await vi.waitFor(() => expect(pending.requests.length).toBeGreaterThan(0))

    await wrapper.find('[data-testid="update-now"]').trigger('click')
    const dialog = await vi.waitFor(() => {
      const element = document.body.querySelector<HTMLElement>('[role="dialog"]')
      if (!element) throw new Error('the dialog is not open yet')
      return element
    })
    const listed = [...dialog.querySelectorAll<HTMLElement>('[data-testid="update-change"]')].map(e => e.dataset.version)
    expect(listed).toEqual(['1.4.0', '1.3.0'])
    expect(dialog.querySelector('[data-testid="update-migrations"]')).not.toBeNull()

    // Confirm is on once the plan is in.
    await vi.waitFor(() => expect(dialog.querySelector('[data-testid="plan-checks"]')).not.toBeNull())
    dialog.querySelector<HTMLElement>('[data-testid="confirm-update"]')!.click()
    await vi.waitFor(() => expect(start.requests).toEqual([{ targetVersion: '1.4.0', backup: true, retryFailed: false, ignoreChecks: false }]))
    await vi.waitFor(() => expect(useSystemStore().activeRunId).toBe('run-9'))
    // The status read the start makes ends here, not in the next test.
    await vi.waitFor(() => expect(useSystemStore().statusLoading).toBe(false))
  })

  it('hands the dialog what the updater says about rehearsals: none offered when its driver cannot run one', async () => {
    serve('/api/system/status', () => aStatus())
    serve('/api/system/releases/pending', () => ({ currentVersion: '1.2.2', target: '1.3.0', releases: [aRelease('1.3.0')], migratesData: false }))
    serve('/api/system/history', () => ({ runs: [] }))
    const reason = 'the swarm driver cannot rehearse yet: a copy of the data would have to be made on the node each volume lives on'
    const health = serve('/api/system/health', () => ({ reachable: true, driver: 'swarm', version: '1.2.2', services: [], backups: { supported: true, reason: null }, rehearsals: { supported: false, reason }, error: null }))

    const wrapper = await mount(defineComponent({ setup: () => () => h(UApp, () => h(SystemReleaseNotes)) }))
    await vi.waitFor(() => expect(wrapper.find('[data-testid="release-version"]').text()).toBe('1.3.0'))
    await vi.waitFor(() => expect(health.requests.length).toBeGreaterThan(0))

    await wrapper.find('[data-testid="update-now"]').trigger('click')
    const dialog = await vi.waitFor(() => {
      const element = document.body.querySelector<HTMLElement>('[role="dialog"]')
      if (!element) throw new Error('the dialog is not open yet')
      return element
    })
    await vi.waitFor(() => expect(dialog.querySelector('[data-testid="plan-checks"]')).not.toBeNull())
    expect(dialog.querySelector<HTMLButtonElement>('[data-testid="rehearse-first"]')!.disabled).toBe(true)
    expect(dialog.querySelector('[data-testid="update-rehearsal-unsupported"]')!.textContent).toContain(reason)
    expect(dialog.querySelector<HTMLButtonElement>('[data-testid="confirm-update"]')!.disabled).toBe(false)
  })
})
