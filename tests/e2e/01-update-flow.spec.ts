import { expect, test } from '@playwright/test'
import { readFileSync } from 'node:fs'
import { runExportSchema } from '../../shared/schemas/api'
import { ADMIN, BROKEN_BETA, INSTALLED_VERSION, MIGRATING_RELEASE, OLD_RELEASE, OTHER_ADMIN, ROLLBACK_TARGET, STABLE_TARGET } from './env'
import {
  documentIsMarked, expectFocusTrappedInDialog, expectNoSeriousA11yViolations, focusIsInDialog, markDocument, newestHistoryRow, signIn, stepRow,
} from './helpers'

// One instance for the whole file: (b) starts from the version (a) installed.
test.describe.configure({ mode: 'serial' })

// A real update restarts the web server and verifies the new version: minutes, not seconds.
const RUN_TIMEOUT = 180_000

test('an admin updates to the new stable release and the page reloads itself onto it', async ({ page }) => {
  test.setTimeout(RUN_TIMEOUT + 60_000)
  await signIn(page, ADMIN)

  const banner = page.getByTestId('update-banner')
  await expect(banner).toContainText(`Owlat ${STABLE_TARGET} is available`)
  await banner.getByTestId('banner-link').click()
  await expect(page).toHaveURL('/settings/system')

  await expect(page.getByTestId('current-version')).toHaveText(INSTALLED_VERSION)
  await expect(page.getByTestId('release-version')).toHaveText(STABLE_TARGET)
  await expect(page.getByTestId('release-notes')).toContainText('segments can be scheduled')

  await expect(page.getByTestId('health-table')).toBeVisible()
  await expect(page.getByTestId('backups-capability')).toHaveAttribute('data-supported', 'false')
  await expectNoSeriousA11yViolations(page)

  // The dialog by keyboard alone: it takes focus, keeps it, and gives it back when closed.
  const updateNow = page.getByTestId('update-now')
  await updateNow.focus()
  await page.keyboard.press('Enter')
  const dialog = page.getByRole('dialog')
  await expect(dialog).toBeVisible()
  await expect.poll(() => focusIsInDialog(page)).toBe(true)
  await expectFocusTrappedInDialog(page)
  // What the update changes, and that this driver cannot back up (so the option is off and says why).
  await expect(dialog.getByTestId('update-change')).toHaveCount(2)
  await expect(dialog.locator(`[data-testid="update-change"][data-version="${STABLE_TARGET}"]`)).toContainText('segments can be scheduled')
  await expect(dialog.getByTestId('update-no-migrations')).toBeVisible()
  const backup = dialog.getByRole('checkbox', { name: 'Take a backup first' })
  await expect(backup).toBeDisabled()
  await expect(backup).not.toBeChecked()
  await expect(dialog).toContainText('Not available: the local driver runs no data volumes')
  await expectNoSeriousA11yViolations(page, '[role="dialog"]')
  await page.keyboard.press('Escape')
  await expect(dialog).toHaveCount(0)
  await expect(updateNow).toBeFocused()

  await markDocument(page)
  const reloaded = page.waitForEvent('load', { timeout: RUN_TIMEOUT })

  await updateNow.click()
  await page.getByTestId('confirm-update').click()

  // The run is followed step by step. Whether the page catches it running depends on how long
  // the web is down, so only what stays true across the reload is asserted here.
  await expect(page.getByTestId('run-heading')).toHaveText(`Update ${INSTALLED_VERSION} → ${STABLE_TARGET}`)
  await expect(stepRow(page, 'preflight')).toHaveAttribute('data-status', 'succeeded', { timeout: RUN_TIMEOUT })

  await reloaded
  expect(await documentIsMarked(page)).toBe(false)
  await expect(page.getByTestId('current-version')).toHaveText(STABLE_TARGET)

  // After the reload the last run is still shown, finished.
  await expect(page.getByTestId('run-status')).toHaveAttribute('data-status', 'succeeded')
  await expect(stepRow(page, 'commit')).toHaveAttribute('data-status', 'succeeded')
  await expect(page.getByTestId('up-to-date')).toBeVisible()
  await expect(page.getByTestId('update-banner')).toHaveCount(0)

  const newest = newestHistoryRow(page)
  await expect(newest.getByTestId('history-versions')).toHaveText(`${INSTALLED_VERSION} → ${STABLE_TARGET}`)
  await expect(newest.getByTestId('history-result')).toHaveAttribute('data-status', 'succeeded')
})

test('a second admin sees the first one\'s update in progress, its rollback, and its acknowledgement', async ({ page, browser }) => {
  test.setTimeout(RUN_TIMEOUT + 60_000)
  await signIn(page, ADMIN)
  await expect(page.getByTestId('current-version')).toHaveText(STABLE_TARGET)

  // The other admin, in a browser of their own, on the same page.
  const otherContext = await browser.newContext()
  const other = await otherContext.newPage()
  await signIn(other, OTHER_ADMIN)
  await expect(other.getByTestId('current-version')).toHaveText(STABLE_TARGET)
  await expect(other.getByTestId('rollback-open')).toBeEnabled()

  await page.getByTestId('channel-select').click()
  await page.getByRole('option', { name: 'Beta' }).click()
  await expect(page.getByTestId('channel-select')).toContainText('Beta')
  await expect(page.getByTestId('release-version')).toHaveText(BROKEN_BETA)
  await expect(other.getByTestId('release-version')).toHaveText(BROKEN_BETA)

  await markDocument(page)
  await page.getByTestId('update-now').click()
  await page.getByTestId('confirm-update').click()
  await expect(page.getByTestId('run-heading')).toHaveText(`Update ${STABLE_TARGET} → ${BROKEN_BETA}`)

  // The beta's web answers but never reports healthy: the run stays in verify long enough for
  // the other admin's page to catch up without reloading.
  const inProgress = other.getByTestId('run-in-progress-banner')
  await expect(inProgress).toHaveText(new RegExp(`Update to ${BROKEN_BETA.replaceAll('.', '\\.')} in progress, started by ${ADMIN.email}`))
  await expect(other.getByTestId('rollback-open')).toBeDisabled()
  // While the beta is verified its web reports that version, so the card offers no update at all;
  // before and after that the button is there but disabled. Either way nothing can be started.
  await expect(other.locator('[data-testid="update-now"]:enabled')).toHaveCount(0)
  await expect(inProgress.getByTestId('run-in-progress-link')).toHaveAttribute('href', /\/settings\/system\/runs\//)

  await expect(page.getByTestId('run-status')).toHaveAttribute('data-status', 'rolled_back', { timeout: RUN_TIMEOUT })
  await expect(page.getByTestId('run-reason')).toContainText(/\S/)
  await expect(stepRow(page, 'verify')).toHaveAttribute('data-status', 'failed')
  await expect(stepRow(page, 'restore')).toHaveAttribute('data-status', 'succeeded')
  await expect(stepRow(page, 'verify-restore')).toHaveAttribute('data-status', 'succeeded')

  // No reload: the running version never changed, the page refreshed its data instead.
  expect(await documentIsMarked(page)).toBe(true)
  await expect(page.getByTestId('current-version')).toHaveText(STABLE_TARGET)
  const newest = newestHistoryRow(page)
  await expect(newest.getByTestId('history-versions')).toHaveText(`${STABLE_TARGET} → ${BROKEN_BETA}`)
  await expect(newest.getByTestId('history-result')).toHaveAttribute('data-status', 'rolled_back')
  await expect(newest.getByTestId('history-reason')).toContainText(/\S/)

  // Both admins now see why, until one of them acknowledges it.
  for (const p of [page, other]) {
    const attention = p.getByTestId('run-attention-banner')
    await expect(attention).toHaveAttribute('data-status', 'rolled_back')
    await expect(attention).toContainText(`Update to ${BROKEN_BETA} was rolled back: ${STABLE_TARGET} was restored`)
  }
  await expect(other.getByTestId('run-in-progress-banner')).toHaveCount(0)
  await expect(other.getByTestId('update-now')).toBeEnabled()
  await expectNoSeriousA11yViolations(other)

  // The detail view: every step with its full log, and the run as a JSON file.
  await other.getByTestId('run-attention-details').click()
  await expect(other).toHaveURL(/\/settings\/system\/runs\//)
  await expect(other.getByTestId('run-detail-heading')).toHaveText(`Update ${STABLE_TARGET} → ${BROKEN_BETA}`)
  await expect(other.getByTestId('run-detail')).toHaveAttribute('data-status', 'rolled_back')
  await expect(stepRow(other, 'verify')).toHaveAttribute('data-status', 'failed')
  await expect(stepRow(other, 'verify').getByTestId('step-log')).toContainText(/\S/)
  await expectNoSeriousA11yViolations(other)
  const download = other.waitForEvent('download')
  await other.getByTestId('run-detail-export').click()
  const file = await (await download).path()
  const exported = runExportSchema.parse(JSON.parse(readFileSync(file, 'utf8')))
  expect(exported.run).toMatchObject({ kind: 'update', fromVersion: STABLE_TARGET, toVersion: BROKEN_BETA, status: 'rolled_back' })
  expect(exported.run.steps.map(s => s.name)).toContain('verify-restore')
  expect(exported.acknowledgement).toBeNull()

  // The other admin acknowledges from the detail page (the banner is on every admin page): gone for both.
  await other.getByTestId('run-attention-acknowledge').click()
  await expect(other.getByTestId('run-attention-banner')).toHaveCount(0)
  await expect(page.getByTestId('run-attention-banner')).toHaveCount(0)
  await page.reload()
  await expect(page.getByTestId('current-version')).toHaveText(STABLE_TARGET)
  await expect(page.getByTestId('run-attention-banner')).toHaveCount(0)
  await otherContext.close()
})

test('an admin rolls back through the dialog by typing the version, and the page reloads onto it', async ({ page }) => {
  test.setTimeout(RUN_TIMEOUT + 60_000)
  await signIn(page, ADMIN)
  await expect(page.getByTestId('current-version')).toHaveText(STABLE_TARGET)

  // Open it by keyboard: focus goes in, stays in, and comes back to the button on Escape.
  const open = page.getByTestId('rollback-open')
  await open.focus()
  await page.keyboard.press('Enter')
  const dialog = page.getByRole('dialog')
  await expect(dialog).toBeVisible()
  await expect.poll(() => focusIsInDialog(page)).toBe(true)
  await expectFocusTrappedInDialog(page)
  await page.keyboard.press('Escape')
  await expect(dialog).toHaveCount(0)
  await expect(open).toBeFocused()

  await open.click()
  await expect(dialog).toBeVisible()
  // Below the floor of a release that migrated data: listed, disabled, with the reason.
  const oldOption = dialog.getByRole('radio', { name: OLD_RELEASE })
  await expect(oldOption).toBeDisabled()
  await expect(dialog.locator(`[data-testid="rollback-disabled-reason"][data-version="${OLD_RELEASE}"]`))
    .toHaveText(`Not possible: ${MIGRATING_RELEASE} migrated data and cannot roll back below ${MIGRATING_RELEASE}`)
  // The broken beta is newer, so it is never offered.
  await expect(dialog.locator(`[data-testid="rollback-option"][data-version="${BROKEN_BETA}"]`)).toHaveCount(0)

  await dialog.getByRole('radio', { name: ROLLBACK_TARGET }).check()
  const undone = dialog.getByTestId('rollback-undone-release')
  await expect(undone).toHaveCount(2)
  await expect(dialog.locator(`[data-testid="rollback-undone-release"][data-version="${STABLE_TARGET}"]`)).toContainText('segments can be scheduled')
  await expect(dialog.getByTestId('rollback-backup-unsupported')).toContainText('does not support backups')
  await expectNoSeriousA11yViolations(page, '[role="dialog"]')

  // Confirming needs the version typed exactly.
  const confirm = dialog.getByTestId('rollback-confirm')
  await expect(confirm).toBeDisabled()
  await dialog.getByTestId('rollback-confirmation').fill('1.2')
  await expect(confirm).toBeDisabled()
  await dialog.getByTestId('rollback-confirmation').fill(ROLLBACK_TARGET)
  await expect(confirm).toBeEnabled()

  await markDocument(page)
  const reloaded = page.waitForEvent('load', { timeout: RUN_TIMEOUT })
  await confirm.click()

  await expect(page.getByTestId('run-heading')).toContainText(`Rollback ${STABLE_TARGET} → ${ROLLBACK_TARGET}`)
  await reloaded
  expect(await documentIsMarked(page)).toBe(false)
  await expect(page.getByTestId('current-version')).toHaveText(ROLLBACK_TARGET)
  await expect(page.getByTestId('run-status')).toHaveAttribute('data-status', 'succeeded')

  // History has both runs: the update to the stable release, and the rollback from it.
  const newest = newestHistoryRow(page)
  await expect(newest.getByTestId('history-row')).toHaveText('rollback')
  await expect(newest.getByTestId('history-versions')).toHaveText(`${STABLE_TARGET} → ${ROLLBACK_TARGET}`)
  await expect(newest.getByTestId('history-result')).toHaveAttribute('data-status', 'succeeded')
  const update = page.getByTestId('history-table').locator('tbody tr').filter({ hasText: `${INSTALLED_VERSION} → ${STABLE_TARGET}` })
  await expect(update.getByTestId('history-row')).toHaveText('update')
  await expect(update.getByTestId('history-result')).toHaveAttribute('data-status', 'succeeded')
})

test('the page still lands on the new version when it never saw the run in flight', async ({ page }) => {
  test.setTimeout(RUN_TIMEOUT + 60_000)
  await signIn(page, ADMIN)
  await expect(page.getByTestId('current-version')).toHaveText(ROLLBACK_TARGET)
  await page.getByTestId('channel-select').click()
  await page.getByRole('option', { name: 'Stable' }).click()
  await expect(page.getByTestId('release-version')).toHaveText(STABLE_TARGET)

  // The run reads fail for the whole run, as when the web stays away longer than the job takes.
  const runReads = '**/api/system/updates/*'
  await page.route(runReads, route => route.abort('connectionrefused'))

  await markDocument(page)
  const reloaded = page.waitForEvent('load', { timeout: RUN_TIMEOUT })
  const accepted = page.waitForResponse(r => r.request().method() === 'POST' && new URL(r.url()).pathname === '/api/system/updates')
  await page.getByTestId('update-now').click()
  await page.getByTestId('confirm-update').click()
  const { runId } = await (await accepted).json() as { runId: string }

  // Ask the server directly (not through the page) until the job is over.
  await expect.poll(async () => {
    try {
      const res = await page.request.get(`/api/system/updates/${runId}`)
      return res.ok() ? (await res.json() as { status: string }).status : null
    }
    catch {
      return null // the web is restarting
    }
  }, { timeout: RUN_TIMEOUT }).toBe('succeeded')
  expect(await documentIsMarked(page)).toBe(true)

  await page.unroute(runReads)
  await reloaded
  expect(await documentIsMarked(page)).toBe(false)
  await expect(page.getByTestId('current-version')).toHaveText(STABLE_TARGET)
  await expect(page.getByTestId('run-status')).toHaveAttribute('data-status', 'succeeded')
})
