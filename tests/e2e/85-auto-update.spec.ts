/**
 * Issue 17 on the page: the automatic update policy and its maintenance window are set, saved and
 * kept across a reload, the next planned update is shown, a bad start is refused with the
 * server's message, and the admin's own notification preference is kept. The window is put three
 * days ahead so the scheduler never installs anything while the suite runs; the policy is turned
 * off again at the end, so later specs see the instance as they expect.
 */
import { expect, test, type Page } from '@playwright/test'
import { ADMIN, DESKTOP } from './env'
import { signIn } from './helpers'

test.describe.configure({ mode: 'serial' })
test.use({ viewport: DESKTOP })

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'] as const
const WEEK_DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const
/** Three days from now: never open while the spec runs, whatever the time zone. */
const dayIndex = (new Date().getUTCDay() + 3) % 7
const DAY = WEEK_DAYS[dayIndex]!
const DAY_LONG = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'][dayIndex]!

async function choosePolicy(page: Page, label: string): Promise<void> {
  await page.getByTestId('auto-update-policy').click()
  await page.getByRole('option', { name: label, exact: true }).click()
  await expect(page.getByTestId('auto-update-policy')).toContainText(label)
}

async function saveSettings(page: Page): Promise<void> {
  await page.getByTestId('auto-update-save').click()
  await expect(page.getByTestId('auto-update-saved')).toHaveText('Saved.')
}

test('the policy and window are kept, the next planned update is shown, a bad start is refused', async ({ page }) => {
  await signIn(page, ADMIN)
  const card = page.getByTestId('auto-update-card')
  await expect(card.getByTestId('auto-update-form')).toBeVisible()

  await choosePolicy(page, 'Minor releases')
  const windowSwitch = card.getByTestId('window-enabled')
  if (await windowSwitch.getAttribute('aria-checked') !== 'true') await windowSwitch.click()
  for (const day of WEEK_DAYS) {
    const box = card.getByTestId(`window-day-${day}`)
    const want = day === DAY ? 'true' : 'false'
    if (await box.getAttribute('aria-checked') !== want) await box.click()
    await expect(box).toHaveAttribute('aria-checked', want)
  }
  await card.getByTestId('window-start').fill('03:00')
  await card.getByTestId('window-duration').fill('120')
  await card.getByTestId('window-time-zone').click()
  await page.keyboard.type('Europe/Berlin')
  await page.getByRole('option', { name: 'Europe/Berlin', exact: true }).click()
  await expect(card.getByTestId('window-time-zone')).toContainText('Europe/Berlin')
  await saveSettings(page)

  await page.reload()
  await expect(card.getByTestId('auto-update-form')).toBeVisible()
  await expect(card.getByTestId('auto-update-policy')).toContainText('Minor releases')
  await expect(card.getByTestId('window-enabled')).toHaveAttribute('aria-checked', 'true')
  await expect(card.getByTestId(`window-day-${DAY}`)).toHaveAttribute('aria-checked', 'true')
  await expect(card.getByText(DAYS[dayIndex]!, { exact: true })).toBeVisible()
  await expect(card.getByTestId('window-start')).toHaveValue('03:00')
  await expect(card.getByTestId('window-duration')).toHaveValue('120')
  await expect(card.getByTestId('window-time-zone')).toContainText('Europe/Berlin')

  // The plan in words: the release the policy allows, when the window next opens, or why none.
  const next = card.getByTestId('next-update')
  await expect(next).toBeVisible()
  await expect(next).not.toContainText('automatic updates are off')
  await expect(next).toHaveText(new RegExp(`^(\\S+ on ${DAY_LONG}( \\d+ \\w+)? 03:00 Europe/Berlin, .+|No automatic update planned: .+)$`))

  // A start the server refuses: its message inline, nothing saved.
  await card.getByTestId('window-start').fill('25:00')
  await card.getByTestId('auto-update-save').click()
  await expect(card.getByTestId('auto-update-error')).toContainText('start must be HH:MM')
  await page.reload()
  await expect(card.getByTestId('window-start')).toHaveValue('03:00')

  // Leave the instance as the other specs expect it.
  await choosePolicy(page, 'Off')
  await saveSettings(page)
  await expect(next).toContainText('automatic updates are off')
})

test('the admin\'s own notification preference is kept', async ({ page }) => {
  await signIn(page, ADMIN)
  const group = page.getByTestId('notifications-card')
  await group.getByRole('radio', { name: 'Security only' }).click()
  await expect(group.getByRole('radio', { name: 'Security only' })).toHaveAttribute('aria-checked', 'true')
  await page.reload()
  await expect(group.getByRole('radio', { name: 'Security only' })).toHaveAttribute('aria-checked', 'true')
  await group.getByRole('radio', { name: 'All' }).click()
  await expect(group.getByRole('radio', { name: 'All' })).toHaveAttribute('aria-checked', 'true')
})
