import { expect, test } from '@playwright/test'
import { ADMIN, BROKEN_BETA, STABLE_TARGET, VIEWPORTS } from './env'
import { expectNoHorizontalOverflow, signIn, switchToBeta } from './helpers'

// The update specs leave the instance on the newest stable release, with the beta rolled back
// once (issue 13, defect 2): the banner must not offer it again, on a laptop or a phone.
for (const [name, viewport] of VIEWPORTS) {
  test.describe(name, () => {
    test.use({ viewport })

    test('the banner follows the channel, and never offers the beta that was just restored', async ({ page }) => {
      await signIn(page, ADMIN)
      await expect(page.getByTestId('current-version')).toHaveText(STABLE_TARGET)
      if ((await page.getByTestId('channel-select').textContent())?.includes('Stable')) {
        await expect(page.getByTestId('up-to-date')).toBeVisible()
        await expect(page.getByTestId('update-banner')).toHaveCount(0)
        await switchToBeta(page)
      }

      // The beta is the newest on this channel, but it failed here: marked, not announced.
      await expect(page.getByTestId('release-version')).toHaveText(BROKEN_BETA)
      await expect(page.getByTestId('release-failed-badge')).toBeVisible()
      await expect(page.getByTestId('release-failed-run')).toHaveAttribute('href', /\/settings\/system\/runs\//)
      await expect(page.getByTestId('update-now')).toHaveText('Try again anyway…')
      await expect(page.getByTestId('update-banner')).toHaveCount(0)
      await expectNoHorizontalOverflow(page)

      await page.reload()
      await expect(page.getByTestId('release-version')).toHaveText(BROKEN_BETA)
      await expect(page.getByTestId('update-banner')).toHaveCount(0)
    })
  })
}
