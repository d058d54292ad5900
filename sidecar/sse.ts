/**
 * `GET /v1/jobs/:id/events`: replays the job's journaled events after `Last-Event-ID`, then
 * streams live ones, and ends after the job's terminal `job` event. `id:` is the journal
 * sequence, so a client that reconnects continues exactly where it stopped.
 */
import type { ServerResponse } from 'node:http'
import { isTerminalStatus } from '../shared/run-state'
import type { Journal, JournalEvent } from './journal'

export const HEARTBEAT_MS = 15_000

export function streamJobEvents(res: ServerResponse, journal: Journal, jobId: string, afterSeq: number): void {
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    'connection': 'keep-alive',
    // Stop reverse proxies from buffering the stream.
    'x-accel-buffering': 'no',
  })
  let lastSent = afterSeq
  let ended = false

  const end = () => {
    if (ended) return
    ended = true
    unsubscribe()
    clearInterval(heartbeat)
    res.end()
  }

  const send = (entry: JournalEvent) => {
    // The same event can reach us from the replay and from the live feed; the sequence dedupes.
    if (ended || entry.seq <= lastSent) return
    lastSent = entry.seq
    res.write(`id: ${entry.seq}\ndata: ${JSON.stringify(entry.event)}\n\n`)
    if (entry.event.type === 'job' && isTerminalStatus(entry.event.job.status)) end()
  }

  const unsubscribe = journal.onEvent((entry) => {
    if (entry.jobId === jobId) send(entry)
  })
  const heartbeat = setInterval(() => res.write(': heartbeat\n\n'), HEARTBEAT_MS)
  res.on('close', end)

  for (const entry of journal.eventsAfter(jobId, afterSeq)) {
    if (ended) break
    send(entry)
  }
  // Resumed after the terminal event: there is nothing left to wait for.
  const job = journal.getJob(jobId)
  if (!job || isTerminalStatus(job.status)) end()
}
