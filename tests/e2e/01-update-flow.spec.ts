import { expect, test } from '@playwright/test'
import { readFileSync } from 'node:fs'
import { runExportSchema } from '../../shared/schemas/api'
import { ADMIN, BROKEN_BETA, DESKTOP, INSTALLED_VERSION, MIGRATING_RELEASE, OLD_RELEASE, OTHER_ADMIN, PHONE, ROLLBACK_TARGET, STABLE_TARGET, UPGRADE_STOP } from './env'
import {
  documentIsMarked, expectFocusTrappedInDialog, expectNoHorizontalOverflow, expectNoSeriousA11yViolations, focusIsInDialog, markDocument, newestHistoryRow, signIn, stepRow,
  readmeScreenshot, switchToBeta,
} from './helpers'

// One instance for the whole file: (b) starts from the version (a) installed.
test.describe.configure({ mode: 'serial' })
// The admin works on a laptop; the second admin below follows on a phone (issue 13).
test.use({ viewport: DESKTOP })
/** A line of STABLE_TARGET's release notes (scripts/bootstrap.ts). */
const TARGET_NOTE = 'Scheduled segments keep their time zone'
const UUID = /^[\da-f]{8}-[\da-f]{4}-[\da-f]{4}-[\da-f]{4}-[\da-f]{12}$/

// A real update restarts the web server and verifies the new version: minutes, not seconds.
const RUN_TIMEOUT = 180_000

test('an admin updates to the new stable release and the page reloads itself onto it', async ({ page }) => {
  test.setTimeout(RUN_TIMEOUT + 60_000)
  await signIn(page, ADMIN)

  const banner = page.getByTestId('update-banner')
  await expect(banner).toContainText(`Owlat ${STABLE_TARGET} is available`)
  // The first tab stop skips the navigation and the banners, to the page itself.
  await page.keyboard.press('Tab')
  await expect(page.getByTestId('skip-link')).toBeFocused()
  await page.keyboard.press('Enter')
  await expect(page.locator('#main-content')).toBeFocused()

  // "Review update" works on the page itself too: the release comes into view with the focus.
  await banner.getByTestId('banner-link').click()
  await expect(page).toHaveURL('/settings/system')
  await expect(page.getByTestId('release-heading')).toBeFocused()
  await expect(page.getByTestId('release-heading')).toBeInViewport()

  await expect(page.getByTestId('current-version')).toHaveText(INSTALLED_VERSION)
  await expect(page.getByTestId('release-version')).toHaveText(STABLE_TARGET)
  await expect(page.getByTestId('release-notes')).toContainText(TARGET_NOTE)
  // The notes do not repeat the version as their title; the build is the app's own, not a random id.
  await expect(page.getByTestId('release-notes').locator('h1, h2, h3, h4')).toHaveCount(0)
  await expect(page.getByTestId('build-id')).toHaveText(/\S/)
  expect(await page.getByTestId('build-id').textContent()).not.toMatch(UUID)

  // Check now says what it found.
  await page.getByTestId('check-now').click()
  await expect(page.getByTestId('check-result')).toHaveText(`No new release since the last check: ${STABLE_TARGET} is still the newest.`)
  await expectNoHorizontalOverflow(page)
  await readmeScreenshot(page, '01-available')

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
  await expect(dialog.getByTestId('update-change')).toHaveCount(3)
  await expect(dialog.locator(`[data-testid="update-change"][data-version="${STABLE_TARGET}"]`)).toContainText(TARGET_NOTE)
  // The plan: the path through the required stop, every check passing, the images, the diff folded.
  await expect(dialog.getByTestId('plan-path-version')).toHaveText([INSTALLED_VERSION, UPGRADE_STOP, STABLE_TARGET])
  await expect(dialog.getByTestId('plan-path-note')).toContainText(`${UPGRADE_STOP} is a required upgrade stop`)
  for (const id of ['updater', 'services', 'free-disk', 'host-versions', 'compose-policy', 'release-verifies', 'no-active-run', 'upgrade-path']) {
    await expect(dialog.locator(`[data-testid="plan-check"][data-check="${id}"]`)).toHaveAttribute('data-status', 'ok')
  }
  await expect(dialog.getByTestId('plan-image')).toHaveCount(2)
  const diff = dialog.getByTestId('plan-diff')
  await expect(diff.locator('pre')).toBeHidden()
  await diff.locator('summary').click()
  await expect(diff.locator('pre')).toContainText(`+    image: ghcr.io/owlat/web:${STABLE_TARGET}@sha256:`)
  await expect(dialog.getByTestId('plan-override')).toHaveCount(0)
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

  // The run is followed step by step, in view and with the focus. Whether the page catches it
  // running depends on how long the web is down, so only what stays true across the reload is
  // asserted here.
  await expect(page.getByTestId('run-heading')).toHaveText(`Update ${INSTALLED_VERSION} → ${STABLE_TARGET}`)
  // The focus moves to the run until the page reloads itself: a fast update may reload it before
  // this looks, and a new document has its focus at the top.
  await expect.poll(() => page.evaluate(() => {
    const doc = Reflect.get(globalThis, 'document') as { activeElement: { getAttribute: (name: string) => string | null } | null }
    return Reflect.get(globalThis, '__e2eMark') !== true || doc.activeElement?.getAttribute('data-testid') === 'run-heading'
  }).catch(() => false)).toBe(true)
  await expect(page.getByTestId('run-heading')).toBeInViewport()
  await expect(stepRow(page, 'preflight')).toHaveAttribute('data-status', 'succeeded', { timeout: RUN_TIMEOUT })

  await reloaded
  expect(await documentIsMarked(page)).toBe(false)
  // Through the required stop: the page follows both hops and reloads once, onto the target.
  await expect(page.getByTestId('current-version')).toHaveText(STABLE_TARGET, { timeout: RUN_TIMEOUT })

  // After the reload the last run is still shown, finished, hop by hop.
  await expect(page.getByTestId('run-status')).toHaveAttribute('data-status', 'succeeded')
  await expect(page.getByTestId('update-progress').getByTestId('run-hop-label')).toHaveText([
    `Hop 1 of 2: ${INSTALLED_VERSION} → ${UPGRADE_STOP}`,
    `Hop 2 of 2: ${UPGRADE_STOP} → ${STABLE_TARGET}`,
  ])
  for (const hop of ['0', '1']) {
    await expect(page.locator(`[data-testid="run-hop"][data-hop="${hop}"] [data-testid="step-row"][data-step="commit"]`).first()).toHaveAttribute('data-status', 'succeeded')
  }
  await expect(stepRow(page, 'commit')).toHaveAttribute('data-status', 'succeeded')
  await expect(page.getByTestId('up-to-date')).toBeVisible()
  await expect(page.getByTestId('update-banner')).toHaveCount(0)
  // Once, after the page landed on the new version: what is new in it.
  await expect(page.getByTestId('whats-new')).toContainText(`Updated to ${STABLE_TARGET} — what's new`)
  await expect(page.getByTestId('whats-new')).toContainText(TARGET_NOTE)

  // A finished run's logs are folded: no tab stop of their own until expanded.
  await expect(page.getByTestId('update-progress').getByTestId('step-log')).toHaveCount(0)
  await readmeScreenshot(page, '04-updated')
  const commitLog = stepRow(page, 'commit').getByTestId('step-log-toggle')
  await commitLog.click()
  await expect(stepRow(page, 'commit').getByTestId('step-log')).toBeVisible()
  await commitLog.click()
  await expect(stepRow(page, 'commit').getByTestId('step-log')).toHaveCount(0)

  const newest = newestHistoryRow(page)
  await expect(newest.getByTestId('history-versions')).toHaveText(`${INSTALLED_VERSION} → ${UPGRADE_STOP} → ${STABLE_TARGET}`)
  await expect(newest.getByTestId('history-result')).toHaveAttribute('data-status', 'succeeded')
  // One id: the row links to the run the progress card names.
  const runId = await newest.getByTestId('history-row').getAttribute('data-run-id')
  await expect(newest.getByTestId('history-link')).toHaveAttribute('href', `/settings/system/runs/${runId}`)
  await expect(page.getByTestId('update-progress')).toContainText(`(run ${runId})`)
  await expectNoHorizontalOverflow(page)
  await expectNoSeriousA11yViolations(page)

  await page.reload()
  await expect(page.getByTestId('current-version')).toHaveText(STABLE_TARGET)
  await expect(page.getByTestId('whats-new')).toHaveCount(0)
})

test('a second admin sees the first one\'s update in progress, its rollback, and its acknowledgement', async ({ page, browser }) => {
  test.setTimeout(RUN_TIMEOUT + 60_000)
  await signIn(page, ADMIN)
  await expect(page.getByTestId('current-version')).toHaveText(STABLE_TARGET)

  // The other admin, in a browser of their own, on the same page.
  const otherContext = await browser.newContext({ viewport: PHONE })
  const other = await otherContext.newPage()
  await signIn(other, OTHER_ADMIN)
  await expect(other.getByTestId('current-version')).toHaveText(STABLE_TARGET)
  await expect(other.getByTestId('rollback-open')).toBeEnabled()

  // Pre-releases are offered only once the admin confirmed the warning.
  await page.getByTestId('channel-select').click()
  await page.getByRole('option', { name: 'Beta' }).click()
  await page.getByTestId('channel-cancel').click()
  await expect(page.getByTestId('channel-select')).toContainText('Stable')
  await switchToBeta(page)
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
  // While the beta is verified, both pages say what is installed (the committed version) and
  // what is being installed, with the clock of the step against its limit.
  await expect(stepRow(page, 'verify')).toHaveAttribute('data-status', 'running', { timeout: RUN_TIMEOUT })
  for (const p of [page, other]) {
    await expect(p.getByTestId('installing')).toHaveText(new RegExp(`^Installing ${BROKEN_BETA.replaceAll('.', '\\.')} \\(verifying, \\d+ s of 20 s\\)$`))
    await expect(p.getByTestId('current-version')).toHaveText(STABLE_TARGET)
    await expect(p.getByTestId('up-to-date')).toHaveCount(0)
  }
  // Elapsed time per step, with what this instance's earlier run took.
  await expect(page.getByTestId('run-timing')).toContainText(/so far · usually about \d+ s in all here \(1 earlier run\)/)
  await expect(stepRow(page, 'verify').getByTestId('step-elapsed')).toHaveText(/^\d+ s$/)
  // The README's picture of a run in flight: the version card (what is installed, what is being installed) above the progress.
  await page.getByTestId('current-version').evaluate((el) => {
    type Scrolled = { parentElement: Scrolled | null, scrollTop: number }
    for (let node = (el as unknown as Scrolled).parentElement; node; node = node.parentElement) node.scrollTop = 0
  })
  await readmeScreenshot(page, '02-in-flight')
  await expect(other.getByTestId('rollback-open')).toBeDisabled()
  // While the beta is verified its web reports that version, so the card offers no update at all;
  // before and after that the button is there but disabled. Either way nothing can be started.
  await expect(other.locator('[data-testid="update-now"]:enabled')).toHaveCount(0)
  await expect(inProgress.getByTestId('run-in-progress-link')).toHaveAttribute('href', /\/settings\/system\/runs\//)

  await expect(page.getByTestId('run-status')).toHaveAttribute('data-status', 'rolled_back', { timeout: RUN_TIMEOUT })
  await expect(page.getByTestId('run-reason')).toContainText(/\S/)
  // The cause, in the failing web's own words with their time, what was restored, and what to do.
  const outcome = page.getByTestId('run-outcome')
  await expect(outcome.getByTestId('run-reason')).toContainText('Verify new version failed: web did not become healthy within 20 s')
  await expect(outcome.getByTestId('run-output')).toContainText(`The last lines web ${BROKEN_BETA} wrote:`)
  await expect(outcome.getByTestId('run-output')).toContainText(/\d\d:\d\d:\d\d(?: [AP]M)?\s+\[owlat\] health check failed: this demo release is built broken/)
  await expect(outcome.getByTestId('run-restored')).toContainText(`${STABLE_TARGET} was restored`)
  await expect(outcome.getByTestId('run-next-step')).toContainText(/^What to do now: \S/)
  await expect(page.getByTestId('release-failed-badge')).toBeVisible()
  await readmeScreenshot(page, '03-rolled-back')
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

  // The beta just failed here: it is not offered again, and is marked so wherever it shows.
  for (const p of [page, other]) {
    await expect(p.getByTestId('run-attention-banner')).toBeVisible()
    await expect(p.getByTestId('update-banner')).toHaveCount(0)
    await expect(p.getByTestId('release-version')).toHaveText(BROKEN_BETA)
    await expect(p.getByTestId('release-failed-badge')).toHaveText('Failed here')
    await expect(p.getByTestId('release-failed-here')).toContainText(`${BROKEN_BETA} failed on this instance`)
    await expect(p.getByTestId('update-now')).toHaveText('Try again anyway…')
    await expectNoHorizontalOverflow(p)
  }
  // Installing it again takes an explicit "try again anyway" in the dialog too.
  await other.getByTestId('update-now').click()
  const retry = other.getByRole('dialog')
  await expect(retry.getByTestId('update-failed-here')).toContainText(`${BROKEN_BETA} already failed on this instance`)
  await expect(retry.getByTestId('confirm-update')).toBeDisabled()
  await retry.getByRole('checkbox', { name: /Try again anyway/ }).check()
  await expect(retry.getByTestId('confirm-update')).toBeEnabled()
  await expect(retry.getByTestId('confirm-update')).toHaveText('Try again')
  await retry.getByRole('button', { name: 'Cancel' }).click()
  await expect(retry).toHaveCount(0)

  // On the phone the history stacks: every row in full width, the reason cut with a way to read it all.
  const otherNewest = newestHistoryRow(other)
  await expect(otherNewest.getByTestId('history-reason')).toHaveAttribute('title', /web did not become healthy/)
  await otherNewest.getByTestId('history-reason-toggle').click()
  await expect(otherNewest.getByTestId('history-reason-toggle')).toHaveAttribute('aria-expanded', 'true')
  await expectNoHorizontalOverflow(other)
  await readmeScreenshot(other, '05-phone')
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
  // The version this instance last ran is chosen first, and said to have run here: the required
  // stop, which ran between the two hops of the update.
  await expect(dialog.getByRole('radio', { name: UPGRADE_STOP })).toBeChecked()
  await expect(dialog.getByRole('radiogroup')).toContainText(/ran here until/)
  // Below the floor of a release that migrated data: listed, disabled, with the reason.
  const oldOption = dialog.getByRole('radio', { name: OLD_RELEASE })
  await expect(oldOption).toBeDisabled()
  await expect(dialog.locator(`[data-testid="rollback-disabled-reason"][data-version="${OLD_RELEASE}"]`))
    .toHaveText(`Not possible: ${MIGRATING_RELEASE} migrated data and cannot roll back below ${MIGRATING_RELEASE}`)
  // The broken beta is newer, so it is never offered.
  await expect(dialog.locator(`[data-testid="rollback-option"][data-version="${BROKEN_BETA}"]`)).toHaveCount(0)

  await dialog.getByRole('radio', { name: ROLLBACK_TARGET }).check()
  // Going back from 1.3.1 to 1.2.2 undoes 1.3.1, its stop 1.3.0 and 1.2.3.
  const undone = dialog.getByTestId('rollback-undone-release')
  await expect(undone).toHaveCount(3)
  await expect(dialog.locator(`[data-testid="rollback-undone-release"][data-version="${STABLE_TARGET}"]`)).toContainText(TARGET_NOTE)
  await expect(dialog.getByTestId('rollback-backup-unsupported')).toContainText('does not support backups')
  await expectNoSeriousA11yViolations(page, '[role="dialog"]')

  // Confirming needs the version typed exactly; until then the button looks disabled and says why.
  const confirm = dialog.getByTestId('rollback-confirm')
  await expect(confirm).toBeDisabled()
  await expect(confirm).toHaveCSS('cursor', 'not-allowed')
  expect(Number(await confirm.evaluate(el => (Reflect.get(globalThis, 'getComputedStyle') as (e: unknown) => { opacity: string })(el).opacity))).toBeLessThan(1)
  await expect(dialog.getByTestId('dialog-disabled-hint')).toHaveText(`Type ${ROLLBACK_TARGET} to enable Roll back.`)
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
  const update = page.getByTestId('history-table').locator('tbody tr').filter({ hasText: `${INSTALLED_VERSION} → ${UPGRADE_STOP} → ${STABLE_TARGET}` })
  await expect(update.getByTestId('history-row')).toHaveText('update')
  await expect(update.getByTestId('history-result')).toHaveAttribute('data-status', 'succeeded')
  // A rollback is no update: nothing new to show.
  await expect(page.getByTestId('whats-new')).toHaveCount(0)

  // On the beta channel the newest release is the beta that failed here: still not offered.
  await expect(page.getByTestId('release-version')).toHaveText(BROKEN_BETA)
  await expect(page.getByTestId('update-banner')).toHaveCount(0)
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
  // The page may already have reloaded: it does so once the web answers the new version after
  // `verify`, during the watch window, whether or not it could read the run.

  await page.unroute(runReads)
  await reloaded
  expect(await documentIsMarked(page)).toBe(false)
  await expect(page.getByTestId('current-version')).toHaveText(STABLE_TARGET)
  await expect(page.getByTestId('run-status')).toHaveAttribute('data-status', 'succeeded')
})
