/**
 * Figure (issue 16): a rehearsal of a release next to the real update to it, on the local driver,
 * through the web as an admin would ask for them. Alternately: a rehearsal of 1.3.0 (on a copy of
 * the data), the update 1.2.2 → 1.3.0, and an untimed rollback back to 1.2.2. Each time is the
 * job's own (started → ended, as the updater journaled it); the rehearsal's expected downtime is
 * its recreate + verify on the copy (shared/rehearsal.ts), printed next to the update's.
 *
 *   node --import tsx bench/rehearsal-vs-update.ts [samples] [watchMs]
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { rehearsalFigures } from '../shared/rehearsal'
import type { Run } from '../shared/schemas/api'
import { fmt, median, runToEnd, startBenchStack, startRun, type BenchStack } from './lib/stack'

async function runOf(stack: BenchStack, cookie: string, runId: string): Promise<Run> {
  return await (await fetch(`${stack.web}/api/system/updates/${runId}`, { headers: { cookie } })).json() as Run
}

export async function benchRehearsalVsUpdate(stack: BenchStack, samples: number) {
  const cookie = await stack.login()
  const rehearsal: number[] = []
  const update: number[] = []
  const rehearsedDowntime: number[] = []
  const updateDowntime: number[] = []
  for (let i = 0; i < samples; i++) {
    for (const kind of ['rehearsals', 'updates', 'rollbacks'] as const) {
      const runId = await startRun(stack, cookie, kind, kind === 'rollbacks' ? '1.2.2' : '1.3.0')
      const ended = await runToEnd(stack, cookie, runId)
      if (ended.status !== 'succeeded') throw new Error(`${kind} run ${runId} ended ${ended.status}`)
      if (kind === 'rollbacks') continue
      const run = await runOf(stack, cookie, runId)
      const figures = rehearsalFigures(run)
      ;(kind === 'rehearsals' ? rehearsal : update).push(run.endedAt! - run.startedAt)
      ;(kind === 'rehearsals' ? rehearsedDowntime : updateDowntime).push(figures.expectedDowntimeMs ?? Number.NaN)
      await sleep(300)
    }
  }
  return { rehearsal, update, rehearsedDowntime, updateDowntime }
}

if (import.meta.filename === process.argv[1]) {
  const watchMs = process.argv[3] ?? '0'
  const stack = await startBenchStack({ OWLAT_WATCH_MS: watchMs })
  try {
    const r = await benchRehearsalVsUpdate(stack, Number(process.argv[2] ?? 3))
    console.log(`local driver, watch window ${watchMs} ms`)
    console.log(`rehearsal of 1.3.0: ${median(r.rehearsal).toFixed(0)} ms ${fmt(r.rehearsal)}; its expected downtime (recreate + verify on the copy) ${median(r.rehearsedDowntime).toFixed(0)} ms ${fmt(r.rehearsedDowntime)}`)
    console.log(`update 1.2.2 → 1.3.0: ${median(r.update).toFixed(0)} ms ${fmt(r.update)}; its recreate + verify ${median(r.updateDowntime).toFixed(0)} ms ${fmt(r.updateDowntime)}`)
  }
  finally {
    await stack.stop()
  }
}
