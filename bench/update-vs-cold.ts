/**
 * Figure: update wall time (local driver, no watch window) ÷ a bare cold start of the web. Side
 * by side, alternately: an update (or a rollback back) through the web, timed from the run's
 * start to its end as the sidecar's job records them; and the built web started on its own
 * (`node .output/server/index.mjs`) until `/api/healthz` answers 200.
 *
 *   node --import tsx bench/update-vs-cold.ts [samples]
 */
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { freePort } from '../tests/setup/ports'
import { cleanEnv, fmt, median, ROOT, runToEnd, startBenchStack, startRun, waitUntil, type BenchStack } from './lib/stack'

export async function coldStart(stack: BenchStack): Promise<number> {
  const port = await freePort()
  const started = Date.now()
  const child = spawn(process.execPath, [join(ROOT, '.output/server/index.mjs')], {
    env: { ...cleanEnv(), NODE_ENV: 'production', PORT: String(port), HOST: '127.0.0.1', OWLAT_DATA_DIR: stack.dataDir, OWLAT_VERSION: '1.2.2', NUXT_SESSION_PASSWORD: 'x'.repeat(40) },
    stdio: 'ignore',
  })
  try {
    await waitUntil('a cold web to answer', async () => (await fetch(`http://127.0.0.1:${port}/api/healthz`)).status === 200, 60_000, 10)
    return Date.now() - started
  }
  finally {
    const exited = new Promise(res => child.once('exit', res))
    child.kill('SIGTERM')
    await exited
  }
}

export async function benchUpdateVsCold(stack: BenchStack, samples: number): Promise<{ update: number[], cold: number[] }> {
  const cookie = await stack.login()
  const update: number[] = []
  const cold: number[] = []
  let current = '1.2.2'
  for (let i = 0; i < samples; i++) {
    cold.push(await coldStart(stack))
    const target = current === '1.2.2' ? '1.3.0' : '1.2.2'
    const runId = await startRun(stack, cookie, target === '1.3.0' ? 'updates' : 'rollbacks', target)
    const run = await runToEnd(stack, cookie, runId)
    if (run.status !== 'succeeded' || !run.jobId) throw new Error(`run to ${target} ended ${run.status}`)
    // The job's own times: queued → ended, as the sidecar journaled them.
    const job = await (await fetch(`${stack.web}/api/system/updates/${runId}`, { headers: { cookie } })).json() as { startedAt: number, endedAt: number }
    update.push(job.endedAt - job.startedAt)
    current = target
    await sleep(300)
  }
  return { update, cold }
}

if (import.meta.filename === process.argv[1]) {
  const stack = await startBenchStack({ OWLAT_WATCH_MS: '0' })
  try {
    const { update, cold } = await benchUpdateVsCold(stack, Number(process.argv[2] ?? 5))
    console.log(`update ${median(update).toFixed(0)} ms ${fmt(update)} ÷ cold start ${median(cold).toFixed(0)} ms ${fmt(cold)} = ${(median(update) / median(cold)).toFixed(2)}`)
  }
  finally {
    await stack.stop()
  }
}
