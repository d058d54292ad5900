/**
 * Issue 13, defects 4, 5 and 11 on a laptop and a phone: a page that cannot reach the server says
 * an update may be in progress and recovers by itself, every card fits the screen, and the
 * keyboard gets a skip link. Reads only: the instance stays as the update specs left it.
 */
import { expect, test, type Page } from '@playwright/test'
import { ADMIN, STABLE_TARGET, VIEWPORTS } from './env'
import { expectNoHorizontalOverflow, expectNoSeriousA11yViolations, newestHistoryRow, signIn } from './helpers'

/** What the server would not answer while the web restarts: every API read of the page. */
const API = '**/api/**'

const CARD_ERRORS = ['status-error', 'history-error', 'health-error', 'run-error', 'update-error']

async function expectEveryCardRecovered(page: Page): Promise<void> {
  // Well within the 45 s the cards used to keep their error after the server came back.
  const soon = { timeout: 10_000 }
  await expect(page.getByTestId('server-unreachable')).toHaveCount(0, soon)
  await expect(page.getByTestId('current-version')).toHaveText(STABLE_TARGET, soon)
  await expect(page.getByTestId('health-table').getByTestId('service-row').first()).toBeVisible(soon)
  await expect(newestHistoryRow(page).getByTestId('history-row')).toBeVisible(soon)
  for (const id of CARD_ERRORS) await expect(page.getByTestId(id)).toHaveCount(0)
  await expect(page.getByText('cannot be reached')).toHaveCount(0)
}

async function expectUpdateMayBeInProgress(page: Page): Promise<void> {
  const notice = page.getByTestId('server-unreachable')
  await expect(notice).toContainText('an update may be in progress')
  await expect(notice).toContainText('This page keeps trying and catches up by itself')
  // One notice for the page, not an error in every card.
  for (const id of CARD_ERRORS) await expect(page.getByTestId(id)).toHaveCount(0)
  await expect(page.getByText('cannot be reached')).toHaveCount(0)
}

for (const [name, viewport] of VIEWPORTS) {
  test.describe(name, () => {
    test.use({ viewport })

    test('a page opened while the server does not answer says an update may be in progress, and every card recovers', async ({ page }) => {
      await signIn(page, ADMIN)
      // Opened fresh: the document loads, and then the server stops answering (the web restarts).
      await page.route(API, route => route.abort('connectionrefused'))
      await page.reload()
      await expectUpdateMayBeInProgress(page)
      await expectNoHorizontalOverflow(page)
      await page.unroute(API)
      await expectEveryCardRecovered(page)
    })

    test('the server unreachable for 4 s and then back: every card recovers by itself', async ({ page }) => {
      await signIn(page, ADMIN)
      await expectEveryCardRecovered(page)
      await page.route(API, route => route.abort('connectionrefused'))
      await expectUpdateMayBeInProgress(page)
      await page.waitForTimeout(4000)
      // The cards keep what they showed meanwhile.
      await expect(page.getByTestId('current-version')).toHaveText(STABLE_TARGET)
      await page.unroute(API)
      await expectEveryCardRecovered(page)
    })

    test('no card is wider than the screen, rows link to their run, and the page passes axe', async ({ page }) => {
      await signIn(page, ADMIN)
      await expectEveryCardRecovered(page)
      await expectNoHorizontalOverflow(page)
      // Every row of the history leads to its run's page, whose id is the one the row carries.
      const rows = page.getByTestId('history-table').locator('tbody tr')
      expect(await rows.count()).toBeGreaterThanOrEqual(1)
      await expect(page.getByTestId('history-table').getByTestId('history-link')).toHaveCount(await rows.count())
      const first = newestHistoryRow(page)
      const runId = await first.getByTestId('history-row').getAttribute('data-run-id')
      // A long reason stays on one line until asked for (rolled-back runs have one).
      const reasons = page.getByTestId('history-reason')
      if (await reasons.count() > 0) {
        const reason = reasons.first()
        const oneLine = await reason.evaluate(el => (el as unknown as { scrollHeight: number }).scrollHeight)
        await expect(reason).toHaveAttribute('title', /\S/)
        expect(oneLine).toBeLessThan(30)
      }
      await expectNoSeriousA11yViolations(page)

      await first.getByTestId('history-link').click()
      await expect(page).toHaveURL(`/settings/system/runs/${runId}`)
      await expect(page.getByTestId('run-detail')).toBeVisible()
      await expectNoHorizontalOverflow(page)
      await expectNoSeriousA11yViolations(page)
    })

    test('the skip link is the first tab stop and leads past the navigation', async ({ page }) => {
      await signIn(page, ADMIN)
      await page.keyboard.press('Tab')
      const skip = page.getByTestId('skip-link')
      await expect(skip).toBeFocused()
      await expect(skip).toBeInViewport()
      await page.keyboard.press('Enter')
      await expect(page.locator('#main-content')).toBeFocused()
    })
  })
}
