/**
 * `GET /v1/jobs/:id/events`: replays the job's journaled events after `Last-Event-ID`, then
 * streams live ones, and ends after the job's terminal `job` event. `id:` is the journal
 * sequence, so a client that reconnects continues exactly where it stopped. A `heartbeat` event
 * with no data keeps idle proxies from closing the connection; clients listen to `message` only.
 */
import { createEventStream, type H3Event } from 'h3'
import { isTerminalStatus } from '../shared/run-state'
import type { Journal, JournalEvent } from './journal'

export const HEARTBEAT_MS = 15_000

export function streamJobEvents(event: H3Event, journal: Journal, jobId: string, afterSeq: number): Promise<void> {
  // Closed on the response's end: the request's own 'close' comes as soon as its body was read.
  const stream = createEventStream(event, { autoclose: false })
  let lastSent = afterSeq
  let ended = false
  // Pushes wait for the client to take them; one chain keeps them in order.
  let writes = Promise.resolve()
  const write = (push: () => Promise<void>) => {
    writes = writes.then(push).catch(() => {})
  }

  const end = () => {
    if (ended) return
    ended = true
    unsubscribe()
    clearInterval(heartbeat)
    write(() => stream.close())
  }

  const send = (entry: JournalEvent) => {
    // The same event can reach us from the replay and from the live feed; the sequence dedupes.
    if (ended || entry.seq <= lastSent) return
    lastSent = entry.seq
    write(() => stream.push({ id: String(entry.seq), data: JSON.stringify(entry.event) }))
    if (entry.event.type === 'job' && isTerminalStatus(entry.event.job.status)) end()
  }

  const unsubscribe = journal.onEvent((entry) => {
    if (entry.jobId === jobId) send(entry)
  })
  const heartbeat = setInterval(() => write(() => stream.push({ event: 'heartbeat', data: '' })), HEARTBEAT_MS)
  event.node.res.on('close', end)

  const sending = stream.send()
  for (const entry of journal.eventsAfter(jobId, afterSeq)) {
    if (ended) break
    send(entry)
  }
  // Resumed after the terminal event: there is nothing left to wait for.
  const job = journal.getJob(jobId)
  if (!job || isTerminalStatus(job.status)) end()
  return sending
}
