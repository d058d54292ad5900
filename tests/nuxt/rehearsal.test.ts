/**
 * Issue 16 on the page: a rehearsal's report (result, expected downtime, migrations, the plan it
 * was opened with, steps labelled as the copy ran them), the update dialog's "Rehearse first" and
 * its warning against a release whose latest rehearsal failed, and how the run displays word a
 * rehearsal (never "installed", never a reload onto its version).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createError } from 'h3'
import { nextTick } from 'vue'
import { SystemRehearsalReport, SystemRunBanner, SystemRunSteps, SystemUpdateConfirmModal } from '#components'
import type { Run, SystemStatus } from '../../shared/schemas/api'
import type { Step } from '../../shared/schemas/common'
import { REHEARSAL_STEPS, type StepName } from '../../shared/steps'
import { landingVersion, runActivity, runTitle, stepEstimates } from '../../app/helpers/run-display'
import { aPlan, aRelease, aRun, aStatus, cleanUp, mount, serve, servePassingPlans } from './fixtures'

/** A rehearsal of `toVersion` whose steps each took 1 s from t=1000, `verify` as given. */
function aRehearsal(overrides: Partial<Run> & { verify?: 'succeeded' | 'failed' } = {}): Run {
  const { verify = 'succeeded', ...rest } = overrides
  let at = 1_000
  const steps: Step[] = REHEARSAL_STEPS.map((name: StepName) => {
    const status = name === 'verify' ? verify : verify === 'failed' && name === 'watch' ? 'pending' : name === 'deploy-functions' ? 'skipped' : 'succeeded'
    if (status === 'pending') return { name, status, startedAt: null, endedAt: null, log: [], error: null }
    const startedAt = at
    at += name === 'recreate' ? 3_000 : name === 'verify' ? 5_000 : 1_000
    return { name, status, startedAt, endedAt: at, log: [`${name} on the copy`], error: status === 'failed' ? 'web did not become healthy within 20 s' : null }
  })
  const failed = verify === 'failed'
  return aRun({
    id: 'rehearsal-1',
    jobId: 'rehearsal-1',
    kind: 'rehearsal',
    status: failed ? 'failed' : 'succeeded',
    reason: failed ? 'verify failed: web did not become healthy; the rehearsal was torn down; the production stack was not touched' : 'the new version ran on a copy of the data, passed verify and the watch window, and was torn down; the production stack was not touched',
    endedAt: at,
    steps,
    plan: aPlan({
      kind: 'rehearsal',
      checks: [{ id: 'free-disk', status: 'ok', message: '9.0 GiB free of 20.0 GiB in /; the rehearsal needs about 2.0 GiB', fix: null, ignorable: true }],
      migratesData: true,
      rollbackFloor: '1.3.0',
      migrations: [{ version: '1.3.0', migratesData: true, rollbackFloor: '1.3.0' }, { version: '1.2.3', migratesData: false, rollbackFloor: null }],
    }),
    ...rest,
  })
}

let status: SystemStatus
let runs: Run[]

beforeEach(() => {
  useSystemStore().reset()
  clearNuxtData('system-history')
  status = aStatus()
  runs = []
  serve('/api/system/status', () => status)
  serve('/api/system/history', () => ({ runs }))
})
afterEach(cleanUp)

describe('the run displays word a rehearsal', () => {
  it('as a rehearsal on a copy, never as an installation, and never land the page on its version', () => {
    const running = aRun({ kind: 'rehearsal', status: 'running', steps: [{ name: 'verify', status: 'running', startedAt: 1_000, endedAt: null, log: [], error: null }] })
    expect(runTitle(running)).toBe('Rehearsal 1.2.2 → 1.3.0 on a copy of the data')
    expect(runActivity(running, 4_000, 30_000, 60_000)).toBe('Rehearsing 1.3.0 on a copy of the data (verifying, 3 s of 30 s)')
    expect(landingVersion(aRehearsal())).toBeNull()
    expect(landingVersion({ ...running, steps: [{ name: 'verify', status: 'succeeded', startedAt: 1, endedAt: 2, log: [], error: null }, { name: 'watch', status: 'running', startedAt: 2, endedAt: null, log: [], error: null }] })).toBeNull()
    // An update's usual step times are not a rehearsal's.
    expect(stepEstimates([aRehearsal()], null, 'update').runs).toBe(0)
    expect(stepEstimates([aRehearsal()], null, 'rehearsal').byStep.recreate).toBe(3_000)
  })

  it('in the in-progress banner', async () => {
    status = aStatus({ activeRun: aRun({ kind: 'rehearsal', status: 'running' }) })
    const wrapper = await mount(SystemRunBanner)
    await vi.waitFor(() => expect(wrapper.find('[data-testid="run-in-progress-banner"]').exists()).toBe(true))
    const text = wrapper.find('[data-testid="run-in-progress-banner"]').text()
    expect(text).toContain('Rehearsing 1.3.0 on a copy of the data, started by admin@example.test')
    expect(text).toContain('Production is not touched.')
  })

  it('labels the steps as the copy ran them', async () => {
    const wrapper = await mount(SystemRunSteps, { props: { run: aRehearsal() } })
    const labels = wrapper.findAll('[data-testid="step-row"]').map(row => row.find('span.flex-1').text())
    expect(labels).toContain('Copy the data')
    expect(labels).toContain('Start the new version on the copy')
    expect(labels).toContain('Tear down the rehearsal')
    expect(labels).not.toContain('Recreate services')
  })
})

describe('SystemRehearsalReport', () => {
  it('gives the result, the real update\'s expected downtime, the time it took, the migrations and the plan it was opened with', async () => {
    const wrapper = await mount(SystemRehearsalReport, { props: { run: aRehearsal() } })
    expect(wrapper.find('[data-testid="rehearsal-result"]').text()).toBe('Passed: the new version ran on a copy of the data, passed verify and the watch window, and was torn down; the production stack was not touched')
    expect(wrapper.find('[data-testid="rehearsal-downtime"]').text()).toBe('About 8 s (Start the new version on the copy 3 s + Verify the new version on the copy 5 s)')
    expect(wrapper.find('[data-testid="rehearsal-total"]').text()).toBe('15 s')
    expect(wrapper.findAll('[data-testid="rehearsal-migration"]').map(m => m.text())).toEqual([
      '1.3.0: migrates data; rolling back below 1.3.0 is not possible afterwards',
      '1.2.3: no data migrations',
    ])
    expect(wrapper.find('[data-testid="plan-check"][data-check="free-disk"]').text()).toContain('the rehearsal needs about 2.0 GiB')
    expect(wrapper.find('[data-testid="plan-path"]').text()).toContain('1.3.0')
  })

  it('measures no downtime when the copy never got through verify, says why it failed, and offers no override of the stored plan', async () => {
    const failing = aRehearsal({ verify: 'failed' })
    failing.plan = { ...failing.plan!, checks: [{ id: 'services', status: 'fail', message: 'not healthy: web', fix: null, ignorable: true }] }
    const wrapper = await mount(SystemRehearsalReport, { props: { run: failing } })
    expect(wrapper.find('[data-testid="rehearsal-report"]').attributes('data-status')).toBe('failed')
    expect(wrapper.find('[data-testid="rehearsal-result"]').text()).toBe('Failed: Verify the new version on the copy failed: web did not become healthy within 20 s')
    expect(wrapper.find('[data-testid="rehearsal-downtime"]').text()).toBe('Not measured: the new version never got through verify on the copy.')
    expect(wrapper.find('[data-testid="plan-override"]').exists()).toBe(false)
  })

  it('says when no plan was recorded (a rehearsal started elsewhere)', async () => {
    const wrapper = await mount(SystemRehearsalReport, { props: { run: aRehearsal({ plan: null }) } })
    expect(wrapper.find('[data-testid="rehearsal-no-plan"]').exists()).toBe(true)
    expect(wrapper.find('[data-testid="rehearsal-no-migrations"]').text()).toBe('Not recorded.')
  })
})

describe('the update dialog and rehearsals', () => {
  beforeEach(() => void servePassingPlans())

  function dialog(): HTMLElement {
    const element = document.body.querySelector<HTMLElement>('[role="dialog"]')
    if (!element) throw new Error('no dialog is open')
    return element
  }
  const byTestId = (id: string) => dialog().querySelector<HTMLElement>(`[data-testid="${id}"]`)
  const props = { open: true, fromVersion: '1.2.2', toVersion: '1.3.0', changes: [aRelease('1.3.0')], backups: null, rehearsals: { supported: true, reason: null } }

  async function opened(): Promise<void> {
    await vi.waitFor(() => expect(byTestId('plan-checks')).not.toBeNull())
  }

  it('warns against a release whose latest rehearsal failed, with a link to its report, and not once a newer one passed', async () => {
    runs = [aRehearsal({ verify: 'failed', endedAt: 20_000 })]
    await mount(SystemUpdateConfirmModal, { props })
    await opened()
    await vi.waitFor(() => expect(byTestId('update-failed-rehearsal')).not.toBeNull())
    expect(byTestId('update-failed-rehearsal')!.textContent).toContain('Rehearsal of 1.3.0 failed')
    expect(byTestId('update-failed-rehearsal')!.textContent).toContain('the production stack was not touched')
    expect(byTestId('update-failed-rehearsal-report')!.getAttribute('href')).toMatch(/\/runs\/rehearsal-1$/)
    // Update now stays possible: the warning is what the admin weighs.
    expect((byTestId('confirm-update') as HTMLButtonElement).disabled).toBe(false)
    cleanUp()

    clearNuxtData('system-history')
    serve('/api/system/status', () => status)
    serve('/api/system/history', () => ({ runs }))
    servePassingPlans()
    runs = [aRehearsal({ id: 'rehearsal-2', jobId: 'rehearsal-2', startedAt: 30_000, endedAt: 50_000 }), aRehearsal({ verify: 'failed', endedAt: 20_000 })]
    await mount(SystemUpdateConfirmModal, { props })
    await opened()
    await vi.waitFor(() => expect(byTestId('update-passed-rehearsal')).not.toBeNull())
    expect(byTestId('update-failed-rehearsal')).toBeNull()
    expect(byTestId('update-passed-rehearsal')!.textContent).toContain('Rehearsal of 1.3.0 passed')
    expect(byTestId('update-passed-rehearsal-report')!.getAttribute('href')).toMatch(/\/runs\/rehearsal-2$/)
  })

  it('"Rehearse first" starts a rehearsal of the target, follows it while Update now waits, then warns when it failed', async () => {
    let current = aRun({ id: 'rehearsal-9', jobId: 'rehearsal-9', kind: 'rehearsal', status: 'running', steps: [{ name: 'verify', status: 'running', startedAt: Date.now(), endedAt: null, log: [], error: null }] })
    const started = serve('/api/system/rehearsals', () => ({ runId: 'rehearsal-9' }), 'POST')
    serve('/api/system/updates/rehearsal-9', () => current, 'GET')
    await mount(SystemUpdateConfirmModal, { props })
    await opened()
    const rehearse = byTestId('rehearse-first') as HTMLButtonElement
    expect(rehearse.disabled).toBe(false)
    rehearse.click()
    await nextTick()

    await vi.waitFor(() => expect(started.requests).toEqual([{ targetVersion: '1.3.0' }]))
    expect(byTestId('update-rehearsal-progress')).not.toBeNull()
    await vi.waitFor(() => expect(byTestId('update-rehearsal-progress')!.textContent).toContain('Rehearsing 1.3.0 on a copy of the data (verifying'))
    expect(byTestId('update-rehearsal-link')!.getAttribute('href')).toMatch(/\/runs\/rehearsal-9$/)
    expect((byTestId('confirm-update') as HTMLButtonElement).disabled).toBe(true)
    expect(byTestId('dialog-disabled-hint')!.textContent).toBe('Wait for the rehearsal to end.')
    expect((byTestId('rehearse-first') as HTMLButtonElement).disabled).toBe(true)
    expect(useSystemStore().activeRunId).toBe('rehearsal-9')

    current = aRehearsal({ id: 'rehearsal-9', jobId: 'rehearsal-9', verify: 'failed', startedAt: Date.now(), endedAt: Date.now() + 1 })
    await vi.waitFor(() => expect(byTestId('update-failed-rehearsal')).not.toBeNull(), { timeout: 3_000 })
    expect(byTestId('update-rehearsal-progress')).toBeNull()
    expect(byTestId('update-failed-rehearsal-report')!.getAttribute('href')).toMatch(/\/runs\/rehearsal-9$/)
    expect((byTestId('confirm-update') as HTMLButtonElement).disabled).toBe(false)
  })

  it('offers no rehearsal the updater\'s driver cannot run, and says why; Update now stays possible', async () => {
    const started = serve('/api/system/rehearsals', () => ({ runId: 'rehearsal-9' }), 'POST')
    const reason = 'the swarm driver cannot rehearse yet: a copy of the data would have to be made on the node each volume lives on'
    await mount(SystemUpdateConfirmModal, { props: { ...props, rehearsals: { supported: false, reason } } })
    await opened()
    const rehearse = byTestId('rehearse-first') as HTMLButtonElement
    expect(rehearse.disabled).toBe(true)
    expect(rehearse.title).toBe(`This updater's driver cannot rehearse: ${reason}`)
    const unsupported = byTestId('update-rehearsal-unsupported')!
    expect(unsupported.textContent!.trim()).toBe(`Rehearse first is not available: ${reason}.`)
    expect(rehearse.getAttribute('aria-describedby')).toBe(unsupported.id)
    rehearse.click()
    await nextTick()
    expect(started.requests).toEqual([])
    expect((byTestId('confirm-update') as HTMLButtonElement).disabled).toBe(false)
  })

  it.each([
    ['the driver can run one', { supported: true, reason: null }],
    ['the updater cannot be asked', null],
  ])('offers a rehearsal when %s', async (_, rehearsals) => {
    await mount(SystemUpdateConfirmModal, { props: { ...props, rehearsals } })
    await opened()
    const rehearse = byTestId('rehearse-first') as HTMLButtonElement
    expect(rehearse.disabled).toBe(false)
    expect(rehearse.hasAttribute('title')).toBe(false)
    expect(rehearse.hasAttribute('aria-describedby')).toBe(false)
    expect(byTestId('update-rehearsal-unsupported')).toBeNull()
  })

  it('says why a rehearsal was refused', async () => {
    serve('/api/system/rehearsals', () => {
      // The test server answers h3's `statusMessage` (Nitro adds `message`): the page reads either.
      throw createError({ statusCode: 409, statusMessage: 'Failing checks stop this rehearsal: free-disk: 1.0 GiB free of 20.0 GiB in /; the new images, the backup and the rehearsal\'s copy of the data (4.0 GiB) need 6.0 GiB. Fix them, then rehearse again.' })
    }, 'POST')
    await mount(SystemUpdateConfirmModal, { props })
    await opened()
    byTestId('rehearse-first')!.click()
    await vi.waitFor(() => expect(byTestId('update-rehearsal-error')?.textContent).toContain('the rehearsal\'s copy of the data (4.0 GiB) need 6.0 GiB'))
    expect((byTestId('confirm-update') as HTMLButtonElement).disabled).toBe(false)
  })
})
