/**
 * Figure: new version answers its version → the reloaded page shows it (Chromium). An admin's
 * page is open on /settings/system; a run is started (updates and rollbacks between 1.2.2 and
 * 1.3.0, alternately); a poller reads the web's version every 20 ms and notes when it first
 * answers the target; the page's reload onto the new version is timed to the moment its version
 * card shows the target: the frame in which it first does, as the page itself notes it (an init
 * script reads the card before every frame), so Playwright's own polling adds nothing to the
 * figure. Every sample is a real run of the local driver.
 *
 *   node --import tsx bench/reload.ts [samples]
 */
import { chromium, type Page } from '@playwright/test'
import { setTimeout as sleep } from 'node:timers/promises'
import { fmt, median, percentile, runToEnd, startBenchStack, startRun, type BenchStack } from './lib/stack'

export const BROWSER = { executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'] }

async function firstAnswer(stack: BenchStack, cookie: string, version: string, stop: AbortSignal): Promise<number | null> {
  while (!stop.aborted) {
    try {
      const res = await fetch(`${stack.web}/api/system/version`, { headers: { cookie }, signal: AbortSignal.timeout(2000) })
      if (res.status === 200 && ((await res.json()) as { version: string }).version === version) return Date.now()
    }
    catch {
      // restarting
    }
    await sleep(20)
  }
  return null
}

/**
 * Runs in every document before its own scripts: notes, before each frame, the first time the
 * version card shows each text (epoch ms, the clock the poller uses). A string, not a function:
 * tsx would wrap a function's inner functions in a helper the page does not have.
 */
const NOTE_VERSION_CARD = `(() => {
  const seen = {}
  window.__versionCardShown = seen
  const frame = () => {
    const text = document.querySelector('[data-testid="current-version"]')?.textContent?.trim()
    if (text && !(text in seen)) seen[text] = performance.timeOrigin + performance.now()
    requestAnimationFrame(frame)
  }
  requestAnimationFrame(frame)
})()`

async function shownAt(page: Page, version: string): Promise<number> {
  const seen = await page.evaluate<Record<string, number>>('window.__versionCardShown ?? {}')
  const at = Object.entries(seen).filter(([text]) => text.includes(version)).map(([, ms]) => ms)
  if (at.length === 0) throw new Error(`the page never noted its version card showing ${version}: ${JSON.stringify(seen)}`)
  return Math.min(...at)
}

async function signIn(page: Page, stack: BenchStack, cookie: string): Promise<void> {
  const [name, ...value] = cookie.split('=')
  await page.context().addCookies([{ name: name!, value: value.join('='), url: stack.web }])
  await page.goto(`${stack.web}/settings/system`)
  await page.getByTestId('current-version').waitFor()
}

export async function benchReload(stack: BenchStack, samples: number): Promise<{ ms: number[] }> {
  const cookie = await stack.login()
  const browser = await chromium.launch(BROWSER)
  const ms: number[] = []
  try {
    const page = await browser.newPage()
    await page.addInitScript({ content: NOTE_VERSION_CARD })
    await signIn(page, stack, cookie)
    let current = '1.2.2'
    for (let i = 0; i < samples; i++) {
      const target = current === '1.2.2' ? '1.3.0' : '1.2.2'
      const stop = new AbortController()
      const answered = firstAnswer(stack, cookie, target, stop.signal)
      const reloaded = page.waitForEvent('framenavigated', { timeout: 120_000 })
      const runId = await startRun(stack, cookie, target === '1.3.0' ? 'updates' : 'rollbacks', target)
      await reloaded
      await page.getByTestId('current-version').filter({ hasText: target }).waitFor({ timeout: 60_000 })
      const shown = await shownAt(page, target)
      stop.abort()
      const t0 = await answered
      const run = await runToEnd(stack, cookie, runId)
      if (run.status !== 'succeeded') throw new Error(`run to ${target} ended ${run.status}`)
      if (t0 !== null) ms.push(shown - t0)
      current = target
      await sleep(500)
    }
  }
  finally {
    await browser.close()
  }
  return { ms }
}

if (import.meta.filename === process.argv[1]) {
  const samples = Number(process.argv[2] ?? 6)
  const stack = await startBenchStack({ OWLAT_WATCH_MS: '0' })
  try {
    const { ms } = await benchReload(stack, samples)
    console.log(`reload latency: median ${median(ms).toFixed(0)} ms, p95 ${percentile(ms, 95).toFixed(0)} ms, max ${Math.max(...ms).toFixed(0)} ms ${fmt(ms)}`)
  }
  finally {
    await stack.stop()
  }
}
