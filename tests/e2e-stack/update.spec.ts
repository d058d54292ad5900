import { expect, test } from '@playwright/test'
import { ADMIN } from '../docker/production'
import { SKIP_DOCKER } from '../docker/stack'
import { documentIsMarked, markDocument, newestHistoryRow, signIn, stepRow } from '../e2e/helpers'
import { INSTALLED_VERSION, TARGET_VERSION } from './env'

// The real updater container pulls, deploys the functions, recreates the web and verifies it.
const RUN_TIMEOUT = 240_000

test.skip(SKIP_DOCKER, 'needs the Docker set-up (OWLAT_SKIP_DOCKER=1)')

test('an admin updates the production stack in the browser and the page reloads itself onto the new version', async ({ page }) => {
  test.setTimeout(RUN_TIMEOUT + 60_000)
  await signIn(page, ADMIN)
  await expect(page.getByTestId('current-version')).toHaveText(INSTALLED_VERSION)
  await page.getByTestId('check-now').click()
  await expect(page.getByTestId('release-version')).toHaveText(TARGET_VERSION)
  await expect(page.getByTestId('release-notes')).toContainText('segments can be scheduled')
  // The compose driver keeps backups: the dialog offers one, on by default.
  await expect(page.getByTestId('backups-capability')).toHaveAttribute('data-supported', 'true')

  await markDocument(page)
  const reloaded = page.waitForEvent('load', { timeout: RUN_TIMEOUT })
  await page.getByTestId('update-now').click()
  const dialog = page.getByRole('dialog')
  await expect(dialog.getByRole('checkbox', { name: 'Take a backup first' })).toBeChecked()
  await page.getByTestId('confirm-update').click()

  await expect(page.getByTestId('run-heading')).toHaveText(`Update ${INSTALLED_VERSION} → ${TARGET_VERSION}`)
  await expect(stepRow(page, 'preflight')).toHaveAttribute('data-status', 'succeeded', { timeout: RUN_TIMEOUT })

  // The web container is recreated from the new image; the page notices and reloads onto it.
  await reloaded
  expect(await documentIsMarked(page)).toBe(false)
  await expect(page.getByTestId('current-version')).toHaveText(TARGET_VERSION)
  await expect(page.getByTestId('run-status')).toHaveAttribute('data-status', 'succeeded', { timeout: RUN_TIMEOUT })
  await expect(stepRow(page, 'deploy-functions')).toHaveAttribute('data-status', 'succeeded')
  await expect(page.getByTestId('up-to-date')).toBeVisible()
  const newest = newestHistoryRow(page)
  await expect(newest.getByTestId('history-versions')).toHaveText(`${INSTALLED_VERSION} → ${TARGET_VERSION}`)
  await expect(newest.getByTestId('history-result')).toHaveAttribute('data-status', 'succeeded')
})
