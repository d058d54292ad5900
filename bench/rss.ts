/**
 * Figure: resident memory of each process `npm start` runs, idle: the updater sidecar (from
 * dist/sidecar.mjs, as `npm start` runs it), the web it supervises (after the page was served),
 * and the peak of one `owlat status` (the CLI, as cli/bin.mjs runs it), from /proc and GNU time.
 *
 *   node --import tsx bench/rss.ts [samples]
 */
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { cleanEnv, median, ROOT, rssMb, startBenchStack, type BenchStack } from './lib/stack'

export async function benchRss(stack: BenchStack, samples: number) {
  const cookie = await stack.login()
  await fetch(`${stack.web}/settings/system`, { headers: { cookie } })
  const sidecar: number[] = []
  const web: number[] = []
  const cli: number[] = []
  for (let i = 0; i < samples; i++) {
    await sleep(1000)
    sidecar.push(rssMb(stack.sidecarPid))
    web.push(rssMb(stack.webPid()))
    // GNU time's %M: the CLI's peak resident set in KB.
    const { stderr } = spawnSync('/usr/bin/time', ['-f', '%M', process.execPath, join(ROOT, 'cli/bin.mjs'), 'status'], {
      env: { ...cleanEnv(), OWLAT_DATA_DIR: stack.dataDir, OWLAT_UPDATER_URL: stack.updater },
      encoding: 'utf8',
      stdio: ['ignore', 'ignore', 'pipe'],
    })
    cli.push(Number(stderr.trim().split('\n').at(-1)) / 1024)
  }
  return { sidecar, web, cli }
}

if (import.meta.filename === process.argv[1]) {
  const stack = await startBenchStack()
  try {
    const r = await benchRss(stack, Number(process.argv[2] ?? 3))
    console.log(`RSS MB: sidecar ${median(r.sidecar).toFixed(0)}, web ${median(r.web).toFixed(0)}, cli ${median(r.cli).toFixed(0)}`, r)
  }
  finally {
    await stack.stop()
  }
}
