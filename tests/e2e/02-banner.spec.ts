import { expect, test } from '@playwright/test'
import { ADMIN, BROKEN_BETA, STABLE_TARGET } from './env'
import { signIn } from './helpers'

test('the banner follows the channel, and a dismissed notice stays dismissed', async ({ page }) => {
  await signIn(page, ADMIN)
  // The update specs leave the instance on the newest stable release: nothing to announce.
  await expect(page.getByTestId('current-version')).toHaveText(STABLE_TARGET)
  await expect(page.getByTestId('up-to-date')).toBeVisible()
  await expect(page.getByTestId('update-banner')).toHaveCount(0)

  await page.getByTestId('channel-select').click()
  await page.getByRole('option', { name: 'Beta' }).click()
  const banner = page.getByTestId('update-banner')
  await expect(banner).toContainText(`Owlat ${BROKEN_BETA} is available`)
  await expect(banner).toHaveAttribute('data-severity', 'normal')

  await banner.getByTestId('banner-dismiss').click()
  await expect(banner).toHaveCount(0)

  await page.reload()
  await expect(page.getByTestId('release-version')).toHaveText(BROKEN_BETA)
  await expect(page.getByTestId('update-banner')).toHaveCount(0)
})
