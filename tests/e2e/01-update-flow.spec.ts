import { expect, test } from '@playwright/test'
import { ADMIN, BROKEN_BETA, INSTALLED_VERSION, ROLLBACK_TARGET, STABLE_TARGET } from './env'
import { documentIsMarked, markDocument, newestHistoryRow, signIn, stepRow } from './helpers'

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

  await markDocument(page)
  const reloaded = page.waitForEvent('load', { timeout: RUN_TIMEOUT })

  await page.getByTestId('update-now').click()
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

test('a broken beta is restored automatically and the page says why', async ({ page }) => {
  test.setTimeout(RUN_TIMEOUT + 60_000)
  await signIn(page, ADMIN)
  await expect(page.getByTestId('current-version')).toHaveText(STABLE_TARGET)

  await page.getByTestId('channel-select').click()
  await page.getByRole('option', { name: 'Beta' }).click()
  await expect(page.getByTestId('channel-select')).toContainText('Beta')
  await expect(page.getByTestId('release-version')).toHaveText(BROKEN_BETA)

  await markDocument(page)
  await page.getByTestId('update-now').click()
  await page.getByTestId('confirm-update').click()

  await expect(page.getByTestId('run-heading')).toHaveText(`Update ${STABLE_TARGET} → ${BROKEN_BETA}`)
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
})

test('an admin rolls back by hand and the page reloads onto the older release', async ({ page }) => {
  test.setTimeout(RUN_TIMEOUT + 60_000)
  await signIn(page, ADMIN)
  await expect(page.getByTestId('current-version')).toHaveText(STABLE_TARGET)

  await markDocument(page)
  const reloaded = page.waitForEvent('load', { timeout: RUN_TIMEOUT })
  await page.getByTestId('rollback-open').click()
  // Newest older release first; the broken beta is newer, so it is never offered.
  await expect(page.getByTestId('rollback-version')).toContainText(ROLLBACK_TARGET)
  await page.getByTestId('rollback-confirm').click()

  await expect(page.getByTestId('run-heading')).toContainText(`Rollback ${STABLE_TARGET} → ${ROLLBACK_TARGET}`)
  await reloaded
  expect(await documentIsMarked(page)).toBe(false)
  await expect(page.getByTestId('current-version')).toHaveText(ROLLBACK_TARGET)
  await expect(page.getByTestId('run-status')).toHaveAttribute('data-status', 'succeeded')

  const newest = newestHistoryRow(page)
  await expect(newest.getByTestId('history-row')).toHaveText('rollback')
  await expect(newest.getByTestId('history-versions')).toHaveText(`${STABLE_TARGET} → ${ROLLBACK_TARGET}`)
  await expect(newest.getByTestId('history-result')).toHaveAttribute('data-status', 'succeeded')
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
