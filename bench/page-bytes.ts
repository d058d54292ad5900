/**
 * Figure: JS bytes over the wire before `load` on /settings/system, cold (a new browser context:
 * no cache), signed in as an admin, counted from Chromium's own network events through CDP
 * (`encodedDataLength`: what crossed the wire, headers included), with the HTML, CSS and API
 * bytes beside it.
 *
 *   node --import tsx bench/page-bytes.ts [samples]
 */
import { chromium } from '@playwright/test'
import { BROWSER } from './reload'
import { startBenchStack, type BenchStack } from './lib/stack'

export interface PageBytes { js: number, css: number, html: number, api: number, requests: number }

export async function benchPageBytes(stack: BenchStack, samples: number): Promise<PageBytes[]> {
  const cookie = await stack.login()
  const [name, ...value] = cookie.split('=')
  const browser = await chromium.launch(BROWSER)
  const out: PageBytes[] = []
  try {
    for (let i = 0; i < samples; i++) {
      const context = await browser.newContext()
      await context.addCookies([{ name: name!, value: value.join('='), url: stack.web }])
      const page = await context.newPage()
      const cdp = await context.newCDPSession(page)
      await cdp.send('Network.enable')
      await cdp.send('Network.setCacheDisabled', { cacheDisabled: true })
      await cdp.send('Page.enable')
      const types = new Map<string, string>()
      const finished: Array<{ id: string, at: number, size: number }> = []
      let loadAt = Infinity
      cdp.on('Network.responseReceived', e => types.set(e.requestId, e.type))
      cdp.on('Network.loadingFinished', e => finished.push({ id: e.requestId, at: e.timestamp, size: e.encodedDataLength }))
      cdp.on('Page.loadEventFired', (e) => {
        loadAt = Math.min(loadAt, e.timestamp)
      })
      await page.goto(`${stack.web}/settings/system`, { waitUntil: 'load' })
      await page.waitForTimeout(300)
      // Both timestamps are the browser's monotonic clock: what finished before `load` counts.
      const bytes: PageBytes = { js: 0, css: 0, html: 0, api: 0, requests: 0 }
      for (const f of finished.filter(f => f.at <= loadAt)) {
        const type = types.get(f.id)
        bytes.requests += 1
        if (type === 'Script') bytes.js += f.size
        else if (type === 'Stylesheet') bytes.css += f.size
        else if (type === 'Document') bytes.html += f.size
        else if (type === 'Fetch' || type === 'XHR') bytes.api += f.size
      }
      out.push(bytes)
      await context.close()
    }
  }
  finally {
    await browser.close()
  }
  return out
}

if (import.meta.filename === process.argv[1]) {
  const stack = await startBenchStack()
  try {
    for (const b of await benchPageBytes(stack, Number(process.argv[2] ?? 3))) console.log(b)
  }
  finally {
    await stack.stop()
  }
}
