/**
 * Figure: JS bytes over the wire before `load` on /settings/system, cold (a new browser context:
 * no cache), signed in as an admin, counted from Chromium's own network events through CDP
 * (`encodedDataLength`: what crossed the wire, headers included), with the HTML, CSS and API
 * bytes beside it, and what the JS is: each script's bytes and what the built file holds.
 *
 *   node --import tsx bench/page-bytes.ts [samples]
 */
import { readFileSync } from 'node:fs'
import { basename, join } from 'node:path'
import { chromium } from '@playwright/test'
import { BROWSER } from './reload'
import { ROOT, startBenchStack, type BenchStack } from './lib/stack'

/** One script the page loaded before `load`: its bytes on the wire and what its built file holds. */
export interface ScriptBytes { file: string, bytes: number, holds: string[] }
/**
 * `js`: scripts finished before `load` (the figure). Chromium fires `load` without
 * waiting for every preloaded chunk, so that cut moves from one load to the next; `jsAll` is every
 * script the page loads until the network is idle, what a cold visit really costs, and `scripts`
 * lists those.
 */
export interface PageBytes { js: number, jsAll: number, css: number, html: number, api: number, requests: number, scripts: ScriptBytes[] }

/** Markers in a built chunk (names that survive minifying) → what it carries. */
const MARKERS: Array<[string, string]> = [
  ['ZodError', 'zod'], ['SemVer', 'semver'], ['getCoreRowModel', 'the table library (UTable)'],
  ['Popper', 'floating-ui (USelect)'], ['createApp', 'vue runtime'], ['pinia', 'pinia'], ['reka', 'reka-ui'],
  ['data-testid":`version-card`', 'the page\'s cards'], ['twMerge', 'tailwind-merge'],
]

function holds(url: string): string[] {
  try {
    const text = readFileSync(join(ROOT, '.output/public/_nuxt', basename(new URL(url).pathname)), 'utf8')
    return [...new Set(MARKERS.filter(([marker]) => text.includes(marker)).map(([, what]) => what))]
  }
  catch {
    return []
  }
}

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
      const urls = new Map<string, string>()
      const finished: Array<{ id: string, at: number, size: number }> = []
      let loadAt = Infinity
      cdp.on('Network.responseReceived', (e) => {
        types.set(e.requestId, e.type)
        urls.set(e.requestId, e.response.url)
      })
      cdp.on('Network.loadingFinished', e => finished.push({ id: e.requestId, at: e.timestamp, size: e.encodedDataLength }))
      cdp.on('Page.loadEventFired', (e) => {
        loadAt = Math.min(loadAt, e.timestamp)
      })
      await page.goto(`${stack.web}/settings/system`, { waitUntil: 'networkidle' })
      // Both timestamps are the browser's monotonic clock: what finished before `load` counts.
      const bytes: PageBytes = { js: 0, jsAll: 0, css: 0, html: 0, api: 0, requests: 0, scripts: [] }
      for (const f of finished) {
        const type = types.get(f.id)
        if (type !== 'Script') continue
        bytes.jsAll += f.size
        const url = urls.get(f.id) ?? ''
        bytes.scripts.push({ file: basename(url), bytes: f.size, holds: holds(url) })
      }
      for (const f of finished.filter(f => f.at <= loadAt)) {
        const type = types.get(f.id)
        bytes.requests += 1
        if (type === 'Script') {
          bytes.js += f.size
        }
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
    const samples = await benchPageBytes(stack, Number(process.argv[2] ?? 3))
    for (const { scripts, ...b } of samples) console.log(b)
    printScripts(samples.at(-1)!.scripts)
  }
  finally {
    await stack.stop()
  }
}

/** The profile behind the figure: the largest scripts and what each holds. */
export function printScripts(scripts: ScriptBytes[], top = 10): void {
  const sorted = [...scripts].sort((a, b) => b.bytes - a.bytes)
  for (const s of sorted.slice(0, top)) console.log(`  ${String(s.bytes).padStart(7)} B  ${s.file}  ${s.holds.join(', ')}`)
  const rest = sorted.slice(top)
  console.log(`  ${String(rest.reduce((n, s) => n + s.bytes, 0)).padStart(7)} B  ${rest.length} smaller scripts`)
}
