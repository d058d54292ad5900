/**
 * `npm run bench`: every figure of issue 14's table, measured in one run on one stack (the
 * product as `npm start` runs it, on a throwaway data dir), each with its sample list.
 * Figures are ratios or medians of alternating samples, so the machine's noise mostly cancels.
 * Nothing here asserts: it prints.
 *
 *   node --import tsx bench/run.ts [--quick]
 */
import { benchJournalSize } from './journal-size'
import { benchPageBytes, printScripts } from './page-bytes'
import { benchReload } from './reload'
import { benchRss } from './rss'
import { benchStatusThroughput } from './status-throughput'
import { benchUpdateVsCold } from './update-vs-cold'
import { fmt, median, percentile, startBenchStack } from './lib/stack'

const quick = process.argv.includes('--quick')
// Even counts: runs alternate 1.2.2 → 1.3.0 → 1.2.2, so each bench leaves the stack where it found it.
const RELOADS = quick ? 2 : 6
const UPDATES = quick ? 2 : 4

// The figure is an update without the watch window (0: one sample), which would add its 60 s to every update.
const stack = await startBenchStack({ OWLAT_WATCH_MS: '0' })
const rows: Array<[string, string, string, string]> = []
const log = (line: string) => process.stdout.write(`${line}\n`)
try {
  log('› page bytes (CDP)…')
  const bytes = await benchPageBytes(stack, 3)
  const js = bytes.map(b => b.js)
  const jsAll = bytes.map(b => b.jsAll)
  log(`  JS before load ${fmt(js)} B, all JS until the network is idle ${fmt(jsAll)} B, CSS ${fmt(bytes.map(b => b.css))} B, HTML ${fmt(bytes.map(b => b.html))} B, API ${fmt(bytes.map(b => b.api))} B, requests ${fmt(bytes.map(b => b.requests))}`)
  printScripts(bytes.at(-1)!.scripts)

  log('› status vs healthz (autocannon, 50 connections)…')
  const tp = await benchStatusThroughput(stack, quick ? 1 : 3, quick ? 3 : 5)
  log(`  healthz req/s ${fmt(tp.healthzRps)}, status req/s ${fmt(tp.statusRps)}, status p99 ms ${fmt(tp.statusP99)}, healthz p99 ms ${fmt(tp.healthzP99)}`)

  log('› RSS…')
  const rss = await benchRss(stack, 3)
  log(`  sidecar MB ${fmt(rss.sidecar, 1)}, web MB ${fmt(rss.web, 1)}, CLI peak MB ${fmt(rss.cli, 1)}`)

  log('› update ÷ cold start (local driver)…')
  const uc = await benchUpdateVsCold(stack, UPDATES)
  log(`  update ms ${fmt(uc.update)}, cold start ms ${fmt(uc.cold)}`)

  log('› reload latency (Chromium)…')
  const reload = await benchReload(stack, RELOADS)
  log(`  ms ${fmt(reload.ms)}`)

  log('› journal after 100 jobs…')
  const journal = benchJournalSize(100, 5)
  log(`  ${JSON.stringify(journal)}`)

  rows.push(
    ['new version answers → reloaded page shows it (Chromium)', `median ${median(reload.ms).toFixed(0)} ms, p95 ${percentile(reload.ms, 95).toFixed(0)} ms, max ${Math.max(...reload.ms).toFixed(0)} ms`, '≤ 1.0 s p95', fmt(reload.ms)],
    ['update wall time (no watch window) ÷ bare cold start of the web', `${(median(uc.update) / median(uc.cold)).toFixed(2)} (${median(uc.update).toFixed(0)} ms ÷ ${median(uc.cold).toFixed(0)} ms)`, '≤ 1.5', `${fmt(uc.update)} ÷ ${fmt(uc.cold)}`],
    ['GET /api/system/status req/s ÷ GET /api/healthz req/s, 50 conn; status p99', `${(median(tp.statusRps) / median(tp.healthzRps)).toFixed(2)} (${median(tp.statusRps).toFixed(0)} ÷ ${median(tp.healthzRps).toFixed(0)}); p99 ${median(tp.statusP99).toFixed(0)} ms`, '≥ 0.5, p99 < 20 ms', `${fmt(tp.statusRps)} ÷ ${fmt(tp.healthzRps)}; p99 ${fmt(tp.statusP99)}`],
    ['JS bytes over the wire before load, /settings/system, cold (all JS until idle)', `${median(js).toFixed(0)} B (${Math.max(...jsAll).toFixed(0)} B)`, '≤ 250,000 B', `${fmt(js)} (${fmt(jsAll)})`],
    ['sidecar RSS idle (web RSS; CLI peak)', `${median(rss.sidecar).toFixed(0)} MB (web ${median(rss.web).toFixed(0)} MB; CLI ${median(rss.cli).toFixed(0)} MB)`, '≤ 60 MB', `${fmt(rss.sidecar, 1)}`],
    ['journal after 100 jobs (5 log lines a step)', `${(journal.fileBytes / 1e3).toFixed(0)} KB file, ${journal.events} events`, 'bounded', `${journal.eventBytes} B of events`],
  )
}
finally {
  await stack.stop()
}

log('\n| figure | now | goal | samples |\n| --- | --- | --- | --- |')
for (const row of rows) log(`| ${row.join(' | ')} |`)
