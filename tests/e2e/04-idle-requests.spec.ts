import { expect, test, type Page } from '@playwright/test'
import { ADMIN } from './env'
import { signIn } from './helpers'

/** The API requests the page makes while `during` runs, in order, with when each was sent. */
async function apiRequests(page: Page, during: () => Promise<void>): Promise<Array<{ url: string, at: number }>> {
  const seen: Array<{ url: string, at: number }> = []
  const onRequest = (req: { url: () => string }) => {
    const url = new URL(req.url())
    if (url.pathname.startsWith('/api/')) seen.push({ url: `${url.pathname}${url.search}`, at: Date.now() })
  }
  page.on('request', onRequest)
  await during()
  page.off('request', onRequest)
  return seen
}

/** What the browser says when the tab is hidden or shown (VueUse's useDocumentVisibility listens). */
async function setVisibility(page: Page, state: 'hidden' | 'visible'): Promise<void> {
  await page.evaluate(`(() => {
    Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => '${state}' })
    Object.defineProperty(document, 'hidden', { configurable: true, get: () => ${state === 'hidden'} })
    document.dispatchEvent(new Event('visibilitychange'))
  })()`)
}

test('an idle page only polls the status, once at a time, and not at all in a hidden tab', async ({ page }) => {
  await signIn(page, ADMIN)
  await expect(page.getByTestId('current-version')).toBeVisible()
  // Let the first reads after load settle.
  await expect(page.getByTestId('history-table')).toBeVisible()
  await page.waitForTimeout(2000)

  const idle = await apiRequests(page, () => page.waitForTimeout(10_000))
  // Only the status poll (every 1.2 s): no health, history or pending-releases reads while
  // nothing changes, and no request repeated before the poll interval.
  expect(new Set(idle.map(r => r.url))).toEqual(new Set(['/api/system/status']))
  expect(idle.length).toBeGreaterThanOrEqual(5)
  expect(idle.length).toBeLessThanOrEqual(10)
  const gaps = idle.slice(1).map((r, i) => r.at - idle[i]!.at)
  expect(Math.min(...gaps)).toBeGreaterThan(500)

  await setVisibility(page, 'hidden')
  const hidden = await apiRequests(page, () => page.waitForTimeout(5000))
  expect(hidden).toEqual([])

  // Shown again: it catches up at once.
  const shown = await apiRequests(page, async () => {
    await setVisibility(page, 'visible')
    await page.waitForTimeout(1000)
  })
  expect(shown.map(r => r.url)).toContain('/api/system/status')
})
