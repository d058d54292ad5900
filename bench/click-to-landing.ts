/**
 * Figure (issue 15): on an instance run as `npm start` runs it (default 60 s watch window), the
 * time from the click on "Update now" for 1.2.2 → 1.3.1 (the newest stable, through its required
 * stop 1.3.0: two hops, each verified, watched and committed) to each reload of the page (onto
 * 1.3.0 as its hop passes verify, then onto 1.3.1), and to the run committed (the version card
 * shows 1.3.1): the watch windows account for most of it.
 *
 *   node --import tsx bench/click-to-landing.ts [watchMs]
 */
import { chromium } from '@playwright/test'
import { BROWSER } from './reload'
import { startBenchStack } from './lib/stack'

const watchMs = process.argv[2] ?? '60000'
const stack = await startBenchStack({ OWLAT_WATCH_MS: watchMs })
const browser = await chromium.launch(BROWSER)
try {
  const cookie = await stack.login()
  const [name, ...value] = cookie.split('=')
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } })
  await context.addCookies([{ name: name!, value: value.join('='), url: stack.web }])
  const page = await context.newPage()
  await page.goto(`${stack.web}/settings/system`)
  await page.getByTestId('release-version').filter({ hasText: '1.3.1' }).waitFor()
  await page.getByTestId('update-now').click()
  const clicked = Date.now()
  await page.getByTestId('confirm-update').click()
  // The page reloads once per hop, as each hop's version answers: note when, and onto what.
  const reloads: string[] = []
  let landed = 0
  while (!landed) {
    await page.waitForEvent('framenavigated', { timeout: 600_000 })
    await page.getByTestId('current-version').waitFor({ timeout: 600_000 })
    const at = Date.now()
    const { version } = await page.evaluate(() => fetch('/api/system/version').then(r => r.json() as Promise<{ version: string }>))
    reloads.push(`onto ${version} at ${at - clicked} ms`)
    if (version === '1.3.1') landed = at
  }
  await page.getByTestId('current-version').filter({ hasText: '1.3.1' }).waitFor({ timeout: 600_000 })
  const committed = Date.now()
  console.log(`click → page reloaded ${reloads.join(', ')}; click → landed on 1.3.1: ${landed - clicked} ms; click → committed (card shows 1.3.1): ${committed - clicked} ms; watch window ${watchMs} ms per hop`)
}
finally {
  await browser.close()
  await stack.stop()
}
