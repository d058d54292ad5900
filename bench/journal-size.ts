/**
 * The updater journal's size after N jobs (default 100), each journaled as the runner does: every
 * step started and finished, with log lines, to a terminal status. Prints the file size, the live
 * data (pages in use), and the events kept.
 *
 *   node --import tsx bench/journal-size.ts [jobs] [log lines per step]
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { JOB_STEPS } from '../shared/steps'
import { Journal } from '../sidecar/journal'

export function benchJournalSize(jobs: number, linesPerStep: number) {
  const dir = mkdtempSync(join(tmpdir(), 'owlat-bench-journal-'))
  const path = join(dir, 'journal.sqlite')
  try {
    const journal = new Journal(path)
    const compose = 'services:\n  web:\n    image: owlat/web:1.3.0\n'.repeat(20)
    for (let i = 0; i < jobs; i++) {
      const id = `job-${i}`
      journal.createJob({ id, runId: `run-${i}`, kind: 'update', fromVersion: '1.2.2', toVersion: '1.3.0', requestedBy: { email: 'a@example.com', via: 'web' }, force: false, compose })
      journal.setJobStatus(id, 'running')
      for (const step of JOB_STEPS) {
        journal.startStep(id, step)
        for (let l = 0; l < linesPerStep; l++) journal.appendLog(id, step, `${step}: line ${l} of what the step did, about as long as a real one`)
        journal.finishStep(id, step, 'succeeded')
      }
      journal.setJobStatus(id, 'succeeded')
    }
    journal.close()
    const db = new Database(path, { readonly: true })
    const pageSize = db.pragma('page_size', { simple: true }) as number
    const used = (db.pragma('page_count', { simple: true }) as number) - (db.pragma('freelist_count', { simple: true }) as number)
    const events = db.prepare('SELECT COUNT(*) AS n, SUM(LENGTH(payload)) AS bytes FROM events').get() as { n: number, bytes: number }
    db.close()
    return { jobs, fileBytes: statSync(path).size, liveBytes: used * pageSize, events: events.n, eventBytes: events.bytes }
  }
  finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

if (import.meta.filename === process.argv[1]) {
  console.log(benchJournalSize(Number(process.argv[2] ?? 100), Number(process.argv[3] ?? 5)))
}
