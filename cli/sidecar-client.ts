/**
 * The CLI's client of the updater sidecar (DESIGN.md, Sidecar contract): every request signed
 * with the instance secret, every answer parsed with the shared schemas, every failure turned
 * into one line that says what to do.
 */
import { ofetch } from 'ofetch'
import { z } from 'zod'
import { signRequest } from '../shared/request-signing'
import {
  jobAcceptedSchema, jobEventSchema, jobListSchema, jobSchema, sidecarHealthSchema,
  type Job, type JobEvent, type JobRequest, type SidecarHealth,
} from '../shared/schemas/job'
import { CliError } from './errors'
import { readSse } from './sse'

/** `GET /v1/services/:name/logs?tail=N` (requested from the sidecar for `owlat logs SERVICE`). */
export const serviceLogsSchema = z.object({ lines: z.array(z.string()) })

const errorBodySchema = z.object({ error: z.string() })

export interface SidecarClientOptions {
  url: string
  secret: string
  /** Per request; the event stream has none (it lasts as long as the job). */
  timeoutMs?: number
}

export interface ClockSample {
  /** The sidecar's `Date` header, ms (whole seconds). */
  server: number
  /** Local time half-way through the request, ms. */
  local: number
}

export class SidecarRequestError extends CliError {
  constructor(message: string, kind: 'unreachable' | 'unauthorized' | 'sidecar', readonly status: number | null, readonly detail: string | null) {
    super(message, kind)
  }
}

export interface StreamedEvent {
  id: string | null
  event: JobEvent
}

/** The most specific reason in the cause chain: `ECONNREFUSED` rather than `fetch failed`. */
function describe(err: unknown): string {
  let reason = err instanceof Error ? err.message : String(err)
  let current: unknown = err
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    const code = (current as NodeJS.ErrnoException).code
    if (typeof code === 'string') return code
    if (current.name === 'TimeoutError') return 'TimeoutError'
    reason = current.message
    current = current.cause
  }
  return reason
}

export class SidecarClient {
  readonly url: string
  private readonly secret: string
  private readonly timeoutMs: number
  private lastTimestamp = 0
  /** The most recent `Date` the sidecar sent, for doctor's clock-skew check. */
  lastClock: ClockSample | null = null

  constructor(opts: SidecarClientOptions) {
    this.url = opts.url.replace(/\/+$/, '')
    this.secret = opts.secret
    this.timeoutMs = opts.timeoutMs ?? 10_000
  }

  /** The sidecar refuses a replayed signature, so two requests must never share a timestamp and path. */
  private timestamp(): number {
    this.lastTimestamp = Math.max(Date.now(), this.lastTimestamp + 1)
    return this.lastTimestamp
  }

  private unreachable(err: unknown): SidecarRequestError {
    const reason = describe(err)
    const why = reason === 'TimeoutError' ? `no answer within ${Math.round(this.timeoutMs / 1000)} s` : reason
    return new SidecarRequestError(`cannot reach the updater at ${this.url}: is it running? (${why})`, 'unreachable', null, why)
  }

  private httpError(status: number, body: unknown, method: string, path: string): SidecarRequestError {
    const parsed = errorBodySchema.safeParse(body)
    const detail = parsed.success ? parsed.data.error : null
    if (status === 401) {
      return new SidecarRequestError('the updater refused the instance secret: check OWLAT_INSTANCE_SECRET', 'unauthorized', status, detail)
    }
    return new SidecarRequestError(`the updater answered ${status} to ${method} ${path}: ${detail ?? 'no reason given'}`, 'sidecar', status, detail)
  }

  private recordClock(headers: Headers, sentAt: number): void {
    const date = headers.get('date')
    const server = date ? Date.parse(date) : Number.NaN
    if (!Number.isNaN(server)) this.lastClock = { server, local: Math.round((sentAt + Date.now()) / 2) }
  }

  private async send(method: 'GET' | 'POST', path: string, body?: string, signal?: AbortSignal, stream = false) {
    const sentAt = Date.now()
    try {
      const res = await ofetch.raw(`${this.url}${path}`, {
        method,
        body,
        headers: {
          ...signRequest({ secret: this.secret, method, path, body, now: this.timestamp() }),
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          accept: stream ? 'text/event-stream' : 'application/json',
        },
        // A retried request would carry the same signature, which the sidecar refuses as a replay.
        retry: 0,
        ignoreResponseError: true,
        responseType: stream ? 'stream' : 'text',
        ...(signal ? { signal } : { timeout: this.timeoutMs }),
      })
      this.recordClock(res.headers, sentAt)
      return res
    }
    catch (err) {
      if (signal?.aborted) throw err
      throw this.unreachable(err)
    }
  }

  private async request<T>(method: 'GET' | 'POST', path: string, schema: z.ZodType<T>, body?: unknown): Promise<T> {
    const res = await this.send(method, path, body === undefined ? undefined : JSON.stringify(body))
    const text = typeof res._data === 'string' ? res._data : ''
    let json: unknown = null
    try {
      json = text ? JSON.parse(text) : null
    }
    catch {
      // Not JSON: reported below as an unexpected answer (or as the HTTP error it came with).
    }
    if (res.status >= 400) throw this.httpError(res.status, json, method, path)
    const parsed = schema.safeParse(json)
    if (!parsed.success) {
      const issue = parsed.error.issues[0]
      throw new SidecarRequestError(
        `the updater sent an unexpected answer to ${method} ${path} (${issue ? `${issue.path.join('.') || 'body'}: ${issue.message}` : 'not JSON'}): are the CLI and the updater the same version?`,
        'sidecar', res.status, null,
      )
    }
    return parsed.data
  }

  health(): Promise<SidecarHealth> {
    return this.request('GET', '/v1/health', sidecarHealthSchema)
  }

  async listJobs(limit: number): Promise<Job[]> {
    return (await this.request('GET', `/v1/jobs?limit=${limit}`, jobListSchema)).jobs
  }

  getJob(id: string): Promise<Job> {
    return this.request('GET', `/v1/jobs/${encodeURIComponent(id)}`, jobSchema)
  }

  async createJob(job: JobRequest): Promise<string> {
    return (await this.request('POST', '/v1/jobs', jobAcceptedSchema, job)).jobId
  }

  async serviceLogs(name: string, tail: number): Promise<string[]> {
    return (await this.request('GET', `/v1/services/${encodeURIComponent(name)}/logs?tail=${tail}`, serviceLogsSchema)).lines
  }

  /** The job's events after `lastEventId` (all of them when null), until the sidecar ends the stream. */
  async* events(jobId: string, opts: { lastEventId: string | null, signal: AbortSignal }): AsyncGenerator<StreamedEvent> {
    const path = `/v1/jobs/${encodeURIComponent(jobId)}/events`
    const sentAt = Date.now()
    let res
    try {
      res = await ofetch.raw(`${this.url}${path}`, {
        method: 'GET',
        headers: {
          ...signRequest({ secret: this.secret, method: 'GET', path, now: this.timestamp() }),
          accept: 'text/event-stream',
          ...(opts.lastEventId === null ? {} : { 'last-event-id': opts.lastEventId }),
        },
        retry: 0,
        ignoreResponseError: true,
        responseType: 'stream',
        signal: opts.signal,
      })
    }
    catch (err) {
      if (opts.signal.aborted) throw err
      throw this.unreachable(err)
    }
    this.recordClock(res.headers, sentAt)
    const stream = res._data as ReadableStream<Uint8Array> | undefined
    if (res.status >= 400) {
      const text = stream ? await new Response(stream).text() : ''
      let json: unknown = null
      try {
        json = JSON.parse(text)
      }
      catch {
        // keep null: the status alone says what went wrong
      }
      throw this.httpError(res.status, json, 'GET', path)
    }
    if (!stream) return
    try {
      for await (const message of readSse(stream as unknown as AsyncIterable<Uint8Array>)) {
        let json: unknown
        try {
          json = JSON.parse(message.data)
        }
        catch {
          throw new SidecarRequestError(`the updater sent an event that is not JSON on ${path}`, 'sidecar', res.status, null)
        }
        const parsed = jobEventSchema.safeParse(json)
        if (!parsed.success) {
          throw new SidecarRequestError(`the updater sent an unexpected event on ${path}: are the CLI and the updater the same version?`, 'sidecar', res.status, null)
        }
        yield { id: message.id, event: parsed.data }
      }
    }
    catch (err) {
      if (err instanceof CliError || opts.signal.aborted) throw err
      // The connection broke mid-stream (the sidecar restarted, the network dropped).
      throw this.unreachable(err)
    }
  }
}
