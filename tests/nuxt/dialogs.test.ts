/**
 * The update and rollback dialogs, mounted as useOverlay mounts them (open, resolving through
 * `close`): what they show, what they refuse, and what they hand back.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { nextTick } from 'vue'
import { SystemRollbackModal, SystemUpdateConfirmModal } from '#components'
import type { RollbackCandidates } from '../../shared/schemas/api'
import { aRelease, cleanUp, mount, servePassingPlans } from './fixtures'

// The dialogs read the plan for their target; these cases are about the rest, so every check passes.
beforeEach(() => void servePassingPlans())
afterEach(cleanUp)

/** The dialog's content: UModal teleports it to the body. */
function dialog(): HTMLElement {
  const element = document.body.querySelector<HTMLElement>('[role="dialog"]')
  if (!element) throw new Error('no dialog is open')
  return element
}
const byTestId = (id: string) => dialog().querySelector<HTMLElement>(`[data-testid="${id}"]`)
const allByTestId = (id: string) => [...dialog().querySelectorAll<HTMLElement>(`[data-testid="${id}"]`)]

/** The dialog is open and has its plan (or says why it has none). */
async function opened(): Promise<void> {
  await vi.waitFor(() => expect(byTestId('plan-checks') ?? byTestId('plan-error')).not.toBeNull())
}

async function click(element: HTMLElement | null): Promise<void> {
  if (!element) throw new Error('nothing to click')
  element.click()
  await nextTick()
}

async function type(input: HTMLInputElement, text: string): Promise<void> {
  input.value = text
  input.dispatchEvent(new Event('input', { bubbles: true }))
  await nextTick()
}

describe('SystemUpdateConfirmModal', () => {
  const changes = [aRelease('1.4.0', { migratesData: true, rollbackFloor: '1.3.0' }), aRelease('1.3.0')]

  it('lists what the update installs, flags data migrations, and hands back the update with a backup', async () => {
    const wrapper = await mount(SystemUpdateConfirmModal, {
      props: { open: true, fromVersion: '1.2.2', toVersion: '1.4.0', changes, backups: { supported: true, reason: null }, rehearsals: { supported: true, reason: null } },
    })
    await opened()
    expect(dialog().textContent).toContain('Update Owlat to 1.4.0?')
    expect(allByTestId('update-change').map(e => e.dataset.version)).toEqual(['1.4.0', '1.3.0'])
    expect(byTestId('update-migrations')?.textContent).toContain('1.4.0 migrates data: rolling back below 1.3.0 will not be possible afterwards.')
    const backup = dialog().querySelector<HTMLElement>('[role="checkbox"]')!
    expect(backup.getAttribute('aria-checked')).toBe('true')

    await click(byTestId('confirm-update'))
    await vi.waitFor(() => expect(wrapper.emitted('close')).toEqual([[{ targetVersion: '1.4.0', backup: true, retryFailed: false }]]))
  })

  it('cannot ask for a backup the driver cannot take, and says why', async () => {
    const wrapper = await mount(SystemUpdateConfirmModal, {
      props: { open: true, fromVersion: '1.2.2', toVersion: '1.3.0', changes: [aRelease('1.3.0')], backups: { supported: false, reason: 'the local driver runs no data volumes' }, rehearsals: { supported: true, reason: null } },
    })
    await opened()
    expect(byTestId('update-no-migrations')).not.toBeNull()
    const backup = dialog().querySelector<HTMLElement>('[role="checkbox"]')!
    expect(backup.hasAttribute('disabled')).toBe(true)
    expect(dialog().textContent).toContain('Not available: the local driver runs no data volumes.')

    await click(byTestId('confirm-update'))
    await vi.waitFor(() => expect(wrapper.emitted('close')).toEqual([[{ targetVersion: '1.3.0', backup: false, retryFailed: false }]]))
  })

  it('marks a release that failed here and installs it only with "try again anyway" ticked (issue 13, defect 2)', async () => {
    const failed = [{ version: '1.4.0-beta.1', runId: 'run-9', status: 'rolled_back' as const, endedAt: 9_000, reason: 'verify failed: web did not become healthy' }]
    const wrapper = await mount(SystemUpdateConfirmModal, {
      props: { open: true, fromVersion: '1.3.0', toVersion: '1.4.0-beta.1', changes: [aRelease('1.4.0-beta.1', { channel: 'beta' })], backups: null, rehearsals: null, failed },
    })
    await opened()
    expect(byTestId('update-failed-here')?.textContent).toContain('1.4.0-beta.1 already failed on this instance')
    expect(byTestId('update-failed-here')?.textContent).toContain('rolled back')
    expect(byTestId('release-failed-badge')).not.toBeNull()
    const confirm = byTestId('confirm-update') as HTMLButtonElement
    expect(confirm.disabled).toBe(true)
    expect(confirm.textContent).toContain('Try again')
    expect(byTestId('dialog-disabled-hint')?.textContent).toContain('Try again anyway')

    await click(byTestId('update-retry-failed'))
    await vi.waitFor(() => expect(confirm.disabled).toBe(false))
    await click(confirm)
    await vi.waitFor(() => expect(wrapper.emitted('close')).toEqual([[{ targetVersion: '1.4.0-beta.1', backup: false, retryFailed: true }]]))
  })

  it('hands back nothing when cancelled', async () => {
    const wrapper = await mount(SystemUpdateConfirmModal, {
      props: { open: true, fromVersion: '1.2.2', toVersion: '1.3.0', changes: [aRelease('1.3.0')], backups: null, rehearsals: null },
    })
    await opened()
    await click(byTestId('confirm-cancel'))
    expect(wrapper.emitted('close')).toEqual([[null]])
  })
})

describe('SystemRollbackModal', () => {
  const data: RollbackCandidates = {
    currentVersion: '1.4.0',
    backups: { supported: true, reason: null },
    candidates: [
      {
        version: '1.3.0',
        publishedAt: '2026-11-01T10:00:00Z',
        ranHereAt: 5_000,
        disabledReason: null,
        undoes: [{ version: '1.4.0', publishedAt: '2026-12-01T10:00:00Z', notesHtml: '<p>new</p>', migratesData: false, rollbackFloor: null }],
        backup: { runId: 'r', jobId: 'j', path: '/b', createdAt: 4_000, sizeBytes: 2_000_000 },
        failedHere: null,
      },
      {
        version: '1.2.2',
        publishedAt: null,
        ranHereAt: null,
        disabledReason: '1.3.0 migrated data and cannot go below 1.3.0',
        undoes: [],
        backup: null,
        failedHere: null,
      },
    ],
    unavailableReason: null,
  }

  it('shows why a target is not possible and only confirms once the version is typed exactly', async () => {
    const wrapper = await mount(SystemRollbackModal, { props: { open: true, data } })
    await opened()
    expect(allByTestId('rollback-option').map(e => e.dataset.version)).toEqual(['1.3.0', '1.2.2'])
    expect(byTestId('rollback-disabled-reason')?.textContent).toContain('Not possible: 1.3.0 migrated data and cannot go below 1.3.0')
    expect(allByTestId('rollback-undone-release').map(e => e.dataset.version)).toEqual(['1.4.0'])
    expect(byTestId('rollback-restore-backup')).not.toBeNull()
    expect(dialog().textContent).toContain('Restore the data backup taken before the update from 1.3.0')
    expect(dialog().textContent).toMatch(/Taken .+, 1\.9 MiB\. Changes made to the data since then are lost\./)

    const confirm = byTestId('rollback-confirm') as HTMLButtonElement
    expect(confirm.disabled).toBe(true)
    await type(byTestId('rollback-confirmation') as HTMLInputElement, '1.3')
    expect(confirm.disabled).toBe(true)
    await type(byTestId('rollback-confirmation') as HTMLInputElement, '1.3.0')
    expect(confirm.disabled).toBe(false)

    await click(confirm)
    await vi.waitFor(() => expect(wrapper.emitted('close')).toEqual([[{ targetVersion: '1.3.0', restoreBackup: true, retryFailed: false }]]))
  })

  it('starts over when another version is chosen: the typed confirmation never carries over', async () => {
    const two: RollbackCandidates = { ...data, candidates: [data.candidates[0]!, { ...data.candidates[0]!, version: '1.2.2', backup: null }] }
    await mount(SystemRollbackModal, { props: { open: true, data: two, preselect: '1.2.2' } })
    await opened()
    const input = () => byTestId('rollback-confirmation') as HTMLInputElement
    expect(input().placeholder).toBe('1.2.2')
    await type(input(), '1.2.2')
    expect((byTestId('rollback-confirm') as HTMLButtonElement).disabled).toBe(false)

    await click(dialog().querySelector<HTMLElement>('[role="radio"][value="1.3.0"]'))
    await vi.waitFor(() => expect(input().placeholder).toBe('1.3.0'))
    expect(input().value).toBe('')
    expect((byTestId('rollback-confirm') as HTMLButtonElement).disabled).toBe(true)
  })

  it('asks to restore no backup when none is offered', async () => {
    const noBackup: RollbackCandidates = { ...data, candidates: [{ ...data.candidates[0]!, backup: null }] }
    const wrapper = await mount(SystemRollbackModal, { props: { open: true, data: noBackup } })
    await opened()
    expect(byTestId('rollback-no-backup')).not.toBeNull()
    await type(byTestId('rollback-confirmation') as HTMLInputElement, '1.3.0')
    await click(byTestId('rollback-confirm'))
    await vi.waitFor(() => expect(wrapper.emitted('close')).toEqual([[{ targetVersion: '1.3.0', restoreBackup: false, retryFailed: false }]]))
  })

  it('says there is nothing to roll back to, in the words the server found for what ran here (issue 13, defect 6)', async () => {
    const reason = 'No earlier version to roll back to: this instance ran 1.3.0, 1.2.2, none of them older than the running 1.2.2, and the release source lists no older release.'
    await mount(SystemRollbackModal, { props: { open: true, data: { ...data, candidates: [], unavailableReason: reason } } })
    await vi.waitFor(() => dialog()) // no target, so no plan
    expect(byTestId('rollback-none')?.textContent?.trim()).toBe(reason)
    const confirm = byTestId('rollback-confirm') as HTMLButtonElement
    expect(confirm.disabled).toBe(true)
    // Disabled looks disabled: neutral and faded, not the warning colour of an active button.
    expect(confirm.className).toContain('disabled:opacity-60')
    expect(confirm.className).not.toMatch(/bg-warning/)
  })

  it('preselects the version that ran here last, not a newer release that never ran (issue 13, defect 6)', async () => {
    const candidates: RollbackCandidates = {
      ...data,
      candidates: [
        { ...data.candidates[0]!, version: '1.2.3', ranHereAt: null, backup: null },
        { ...data.candidates[0]!, version: '1.2.2', ranHereAt: 7_000, backup: null },
        { ...data.candidates[0]!, version: '1.2.1', ranHereAt: 2_000, backup: null },
      ],
    }
    await mount(SystemRollbackModal, { props: { open: true, data: candidates } })
    await opened()
    expect((byTestId('rollback-confirmation') as HTMLInputElement).placeholder).toBe('1.2.2')
    expect(dialog().textContent).toContain('never ran here')
  })

  it('asks for "try again anyway" before going back to a version that failed here', async () => {
    const failedHere = { version: '1.3.0', runId: 'run-3', status: 'rolled_back' as const, endedAt: 6_000, reason: 'verify failed' }
    const wrapper = await mount(SystemRollbackModal, { props: { open: true, data: { ...data, candidates: [{ ...data.candidates[0]!, failedHere, backup: null }] }, preselect: '1.3.0' } })
    await opened()
    expect(byTestId('rollback-failed-here')?.textContent).toContain('A run to 1.3.0 failed on this instance')
    await type(byTestId('rollback-confirmation') as HTMLInputElement, '1.3.0')
    const confirm = byTestId('rollback-confirm') as HTMLButtonElement
    expect(confirm.disabled).toBe(true)
    await click(byTestId('rollback-retry-failed'))
    await vi.waitFor(() => expect(confirm.disabled).toBe(false))
    await click(confirm)
    await vi.waitFor(() => expect(wrapper.emitted('close')).toEqual([[{ targetVersion: '1.3.0', restoreBackup: false, retryFailed: true }]]))
  })
})
