/**
 * Recent output of each compose service, kept in memory because `Driver.serviceLogs` answers
 * synchronously: the Engine API's log stream of every project container is followed (those
 * running at start, and each one the engine reports started later, e.g. after a recreate) into
 * a bounded buffer per service, so a service's log spans the containers it went through.
 */
import { Writable } from 'node:stream'
import type Docker from 'dockerode'
import type { ServiceLogEntry } from '../../shared/service-output'
import { versionFromImage } from '../compose-file'
import { LineBuffer } from '../line-buffer'
import { ONEOFF_LABEL, PROJECT_LABEL, SERVICE_LABEL } from './docker-engine'

const LINES_PER_SERVICE = 5000

interface EngineEvent {
  Type?: string
  Action?: string
  id?: string
  Actor?: { ID?: string, Attributes?: Record<string, string> }
}

export class ServiceLogs {
  private readonly buffers = new Map<string, LineBuffer>()
  private readonly streams = new Map<string, NodeJS.ReadableStream>()
  /** Containers already read once: a later attach only wants what came after. */
  private readonly seen = new Set<string>()
  private events: NodeJS.ReadableStream | null = null
  private closed = false

  constructor(private readonly docker: Docker, private readonly project: string, private readonly log: (line: string) => void) {}

  async start(): Promise<void> {
    const filters = { label: [`${PROJECT_LABEL}=${this.project}`] }
    // Subscribe before listing, so a container started in between is not missed.
    const events = await this.docker.getEvents({ filters: { ...filters, type: ['container'], event: ['start'] } })
    this.events = events
    let pending = ''
    events.on('data', (chunk: Buffer) => {
      pending += chunk.toString('utf8')
      const lines = pending.split('\n')
      pending = lines.pop() ?? ''
      for (const line of lines) {
        if (!line.trim()) continue
        const event = JSON.parse(line) as EngineEvent
        const attrs = event.Actor?.Attributes ?? {}
        const id = event.Actor?.ID ?? event.id
        if (id && attrs[SERVICE_LABEL] && attrs[ONEOFF_LABEL] !== 'True') this.follow(id, attrs[SERVICE_LABEL])
      }
    })
    events.on('error', () => {})
    const running = await this.docker.listContainers({ filters: { ...filters, status: ['running'] } })
    for (const c of running) {
      const service = c.Labels[SERVICE_LABEL]
      if (service && c.Labels[ONEOFF_LABEL] !== 'True') this.follow(c.Id, service)
    }
  }

  /** The newest `n` lines of `service`, oldest first, each with its time and the version that wrote it. */
  tail(service: string, n: number): ServiceLogEntry[] {
    return this.buffers.get(service)?.entriesTail(n) ?? []
  }

  close(): void {
    this.closed = true
    destroy(this.events)
    for (const stream of this.streams.values()) destroy(stream)
    this.streams.clear()
  }

  private follow(id: string, service: string): void {
    if (this.closed || this.streams.has(id)) return
    const buffer = this.buffers.get(service) ?? new LineBuffer(LINES_PER_SERVICE, { timestamps: true })
    this.buffers.set(service, buffer)
    const since = this.seen.has(id) ? Math.floor(Date.now() / 1000) : 0
    this.seen.add(id)
    const container = this.docker.getContainer(id)
    const attach = async () => {
      const info = await container.inspect()
      // With the engine's own timestamps: when a line was written, not when we happened to read it.
      const stream = await container.logs({ follow: true, stdout: true, stderr: true, since, tail: LINES_PER_SERVICE, timestamps: true }) as unknown as NodeJS.ReadableStream
      if (this.closed) return destroy(stream)
      this.streams.set(id, stream)
      const version = imageVersion(info.Config.Image)
      const sinkOf = (name: string) => new Writable({
        write(chunk: Buffer, _enc, done) {
          buffer.write(chunk.toString('utf8'), version, `${id}:${name}`)
          done()
        },
      })
      // Without a TTY the engine multiplexes stdout and stderr into one framed stream.
      if (info.Config.Tty) stream.pipe(sinkOf('tty'))
      else this.docker.modem.demuxStream(stream, sinkOf('out'), sinkOf('err'))
      const forget = () => this.streams.delete(id)
      stream.on('end', forget)
      stream.on('error', forget)
    }
    attach().catch((err: Error) => {
      // The container went away before we attached: nothing to follow.
      if ((err as { statusCode?: number }).statusCode !== 404) this.log(`cannot follow the logs of ${service} (${id.slice(0, 12)}): ${err.message}`)
    })
  }
}

function imageVersion(image: string): string | null {
  try {
    return versionFromImage(image)
  }
  catch {
    return null
  }
}

function destroy(stream: NodeJS.ReadableStream | null): void {
  (stream as unknown as { destroy?: () => void } | null)?.destroy?.()
}
