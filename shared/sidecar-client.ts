/**
 * The one client of the updater sidecar (DESIGN.md, Sidecar contract), used by the web, the CLI
 * and the tests: every request signed with the instance secret and a fresh nonce (the signed
 * path includes the query string), every answer parsed with the shared schemas, the job event
 * stream read with `eventsource-parser`, and every failure one of two errors: the sidecar could
 * not be reached, or it answered with something other than what was asked for. Each caller words
 * those for its own audience (the web's API, the CLI's one stderr line). Node only.
 */
import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import { Readable } from 'node:stream'
import { ofetch } from 'ofetch'
import { z } from 'zod'
import { signRequest } from './request-signing'
import {
  jobAcceptedSchema, jobEventSchema, jobListSchema, jobRequestSchema, jobSchema, serviceLogsSchema, sidecarHealthSchema, stackChecksRequestSchema, stackChecksSchema,
  type Check, type Job, type JobEvent, type JobRequest, type SidecarHealth,
} from './schemas/job'
import { backupCreatedSchema, backupFileSchema, backupListSchema, restoreRequestSchema, type BackupArchive, type BackupList, type RestoreRequest } from './schemas/backup'
import { bundleImportSchema, type BundleImportResult } from './schemas/bundle'
import { readSse } from './sse'

/** `POST /v1/checks` renders the file with compose and asks the engine (and Convex) about it. */
export const STACK_CHECKS_TIMEOUT_MS = 60_000

/** A backup pauses the stateful services while their volumes are copied: far longer than a request. */
export const BACKUP_TIMEOUT_MS = 60 * 60 * 1000

/** The sidecar could not be reached at all (down, restarting, wrong URL, timeout, a stream cut off). */
export class SidecarUnreachableError extends Error {
  /** `reason`: the most specific cause (`ECONNREFUSED`, `no answer within 10 s`). */
  constructor(readonly url: string, readonly reason: string) {
    super(`updater unreachable at ${url}: ${reason}`)
    this.name = 'SidecarUnreachableError'
  }
}

/**
 * The sidecar answered, but not with what was asked for: `status` is its HTTP status and `detail`
 * its `{error}`, or 502 with `unexpected` set when the answer did not match the shared schemas.
 */
export class SidecarRejectedError extends Error {
  /** `request`: `METHOD path`, as sent. */
  constructor(readonly status: number, readonly detail: string | null, readonly request = 'a request', readonly unexpected = false) {
    super(unexpected
      ? `the updater sent an unexpected answer to ${request}${detail ? ` (${detail})` : ''}`
      : detail ?? `the updater answered ${status} to ${request}`)
    this.name = 'SidecarRejectedError'
  }
}

export interface SidecarClientOptions {
  url: string
  /** A function when the secret is read lazily (the web reads it on first use). */
  secret: string | (() => string)
  /** Per request; the event stream has none (it lasts as long as the job). */
  timeoutMs?: number
}

export interface ClockSample {
  /** The sidecar's `Date` header, ms (whole seconds). */
  server: number
  /** Local time half-way through the request, ms. */
  local: number
}

export interface SendOptions {
  /** Sent exactly as signed: the signature covers these bytes. */
  body?: string
  /** Added to the request; with `sign: false` they are all it carries (tests of refused requests). */
  headers?: Record<string, string>
  sign?: boolean
  /** Ends the request (no timeout applies when given). */
  signal?: AbortSignal
  /** Answer as a byte stream (the event stream) instead of text. */
  stream?: boolean
  /** This request's timeout instead of the client's (ignored with `signal`). */
  timeoutMs?: number
  /** A file streamed as the body (an offline release bundle), signed by its sha256 instead of `body`. */
  file?: { path: string, sha256: string, size: number }
}

export interface SidecarAnswer {
  status: number
  headers: Headers
  /** The body as text; empty for a stream that was not read. */
  text: string
  stream: ReadableStream<Uint8Array> | null
}

export interface StreamedEvent {
  /** The SSE id (the journal sequence), which `Last-Event-ID` resumes from. */
  id: string | null
  event: JobEvent
}

const errorBodySchema = z.object({ error: z.string() })
/** What an updater from before the nonce answers to a request signed with one. */
const LEGACY_REFUSAL = 'bad request signature'

/** The most specific reason in the cause chain: `ECONNREFUSED` rather than `fetch failed`. */
function describe(err: unknown, timeoutMs: number): string {
  let reason = err instanceof Error ? err.message : String(err)
  let current: unknown = err
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    const code = (current as NodeJS.ErrnoException).code
    if (typeof code === 'string') return code
    if (current.name === 'TimeoutError') return `no answer within ${Number((timeoutMs / 1000).toFixed(1))} s`
    reason = current.message
    current = current.cause
  }
  return reason
}

function parseJson(text: string): unknown {
  try {
    return text ? JSON.parse(text) : null
  }
  catch {
    return null
  }
}

function issues(error: z.ZodError): string {
  return error.issues.map(i => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ')
}

export class SidecarClient {
  readonly url: string
  private readonly secret: () => string
  private readonly timeoutMs: number
  /** The most recent `Date` the sidecar sent, for the CLI doctor's clock-skew check. */
  lastClock: ClockSample | null = null

  constructor(opts: SidecarClientOptions) {
    this.url = opts.url.replace(/\/+$/, '')
    const secret = opts.secret
    this.secret = typeof secret === 'function' ? secret : () => secret
    this.timeoutMs = opts.timeoutMs ?? 10_000
  }

  /** One request as the contract has it; never throws for an HTTP status, only when nothing answered. */
  async send(method: string, path: string, opts: SendOptions = {}): Promise<SidecarAnswer> {
    const first = await this.attempt(method, path, opts, true)
    if (first.status !== 401 || opts.sign === false) return first
    // An updater older than the nonce refuses its signature as bad: ask once more in its form.
    const detail = errorBodySchema.safeParse(parseJson(first.text))
    if (!detail.success || !detail.data.error.startsWith(LEGACY_REFUSAL)) return first
    return this.attempt(method, path, opts, false)
  }

  private async attempt(method: string, path: string, opts: SendOptions, nonce: boolean): Promise<SidecarAnswer> {
    const signedBody = opts.file ? { sha256: opts.file.sha256 } : opts.body
    const signed = opts.sign === false ? {} : signRequest({ secret: this.secret(), method, path, body: signedBody, ...(nonce ? {} : { nonce: false as const }) })
    const sentAt = Date.now()
    let res
    try {
      res = await ofetch.raw(`${this.url}${path}`, {
        method,
        body: opts.file ? Readable.toWeb(createReadStream(opts.file.path)) as ReadableStream<Uint8Array> : opts.body,
        ...(opts.file ? { duplex: 'half' as const } : {}),
        headers: {
          ...(opts.body === undefined ? {} : { 'content-type': 'application/json' }),
          ...(opts.file ? { 'content-type': 'application/x-tar', 'content-length': String(opts.file.size) } : {}),
          accept: opts.stream ? 'text/event-stream' : 'application/json',
          ...signed,
          ...opts.headers,
        },
        // A retried request would carry the same signature, which the sidecar refuses as a replay.
        retry: 0,
        ignoreResponseError: true,
        responseType: opts.stream ? 'stream' : 'text',
        ...(opts.signal ? { signal: opts.signal } : { timeout: opts.timeoutMs ?? this.timeoutMs }),
      })
    }
    catch (err) {
      if (opts.signal?.aborted) throw err
      throw new SidecarUnreachableError(this.url, describe(err, opts.timeoutMs ?? this.timeoutMs))
    }
    const date = res.headers.get('date')
    const server = date ? Date.parse(date) : Number.NaN
    if (!Number.isNaN(server)) this.lastClock = { server, local: Math.round((sentAt + Date.now()) / 2) }
    const stream = opts.stream ? (res._data as ReadableStream<Uint8Array> | undefined) ?? null : null
    // A refused stream carries its reason as JSON: read it like any other answer.
    if (stream && res.status >= 400) return { status: res.status, headers: res.headers, text: await new Response(stream).text(), stream: null }
    return { status: res.status, headers: res.headers, text: opts.stream ? '' : String(res._data ?? ''), stream }
  }

  private rejected(answer: SidecarAnswer, request: string): SidecarRejectedError {
    const parsed = errorBodySchema.safeParse(parseJson(answer.text))
    return new SidecarRejectedError(answer.status, parsed.success ? parsed.data.error : null, request)
  }

  private async call<T>(method: 'GET' | 'POST', path: string, schema: z.ZodType<T>, body?: unknown, timeoutMs?: number): Promise<T> {
    const request = `${method} ${path}`
    const answer = await this.send(method, path, { body: body === undefined ? undefined : JSON.stringify(body), timeoutMs })
    if (answer.status >= 400) throw this.rejected(answer, request)
    const parsed = schema.safeParse(parseJson(answer.text))
    if (!parsed.success) throw new SidecarRejectedError(502, issues(parsed.error), request, true)
    return parsed.data
  }

  health(): Promise<SidecarHealth> {
    return this.call('GET', '/v1/health', sidecarHealthSchema)
  }

  /** The sidecar's most recent jobs, newest first (it caps `limit` at 100). */
  async listJobs(limit: number): Promise<Job[]> {
    return (await this.call('GET', `/v1/jobs?limit=${Math.max(1, Math.min(Math.trunc(limit), 100))}`, jobListSchema)).jobs
  }

  getJob(id: string): Promise<Job> {
    return this.call('GET', `/v1/jobs/${encodeURIComponent(id)}`, jobSchema)
  }

  /** Checked against the schema before anything is sent; the defaults travel explicitly. */
  async createJob(job: JobRequest): Promise<{ jobId: string }> {
    return this.call('POST', '/v1/jobs', jobAcceptedSchema, jobRequestSchema.parse(job))
  }

  /**
   * The stack checks on the compose file a run would apply (`POST /v1/checks`), as the updater's
   * driver renders it; null from a driver that runs none. Rendering and asking the engine take a while.
   */
  async stackChecks(compose: string): Promise<Check[] | null> {
    return (await this.call('POST', '/v1/checks', stackChecksSchema, stackChecksRequestSchema.parse({ compose }), STACK_CHECKS_TIMEOUT_MS)).checks
  }

  /** The bug-report bundle (`GET /v1/bundle`): a gzipped tar, secrets masked by the sidecar. */
  async bundle(): Promise<Buffer> {
    const answer = await this.send('GET', '/v1/bundle', { stream: true })
    if (answer.status !== 200 || !answer.stream) {
      let detail: string | null = null
      try {
        detail = (JSON.parse(answer.text) as { error?: string }).error ?? null
      }
      catch {
        // Not the contract's {error}: the status says it.
      }
      throw new SidecarRejectedError(answer.status, detail, 'GET /v1/bundle')
    }
    return Buffer.from(await new Response(answer.stream).arrayBuffer())
  }

  /**
   * Hands an offline release bundle to the updater (`POST /v1/bundles`), streamed from disk: it
   * verifies everything, loads the images and keeps the release, or says why it kept nothing.
   */
  async importBundle(path: string): Promise<BundleImportResult> {
    const hash = createHash('sha256')
    for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer)
    const file = { path, sha256: hash.digest('hex'), size: (await stat(path)).size }
    const answer = await this.send('POST', '/v1/bundles', { file, signal: AbortSignal.timeout(BACKUP_TIMEOUT_MS) })
    if (answer.status >= 400) throw this.rejected(answer, 'POST /v1/bundles')
    const parsed = bundleImportSchema.safeParse(parseJson(answer.text))
    if (!parsed.success) throw new SidecarRejectedError(502, issues(parsed.error), 'POST /v1/bundles', true)
    return parsed.data
  }

  /** The backup archives (`owlat backup --list`, the page). */
  listBackups(): Promise<BackupList> {
    return this.call('GET', '/v1/backups', backupListSchema)
  }

  /** Takes a backup now and waits for it (`owlat backup`). */
  async createBackup(reason: 'manual' | 'scheduled' = 'manual'): Promise<{ backup: BackupArchive, pruned: string[] }> {
    const request = 'POST /v1/backups'
    const answer = await this.send('POST', '/v1/backups', { body: JSON.stringify({ reason }), signal: AbortSignal.timeout(BACKUP_TIMEOUT_MS) })
    if (answer.status >= 400) throw this.rejected(answer, request)
    const parsed = backupCreatedSchema.safeParse(parseJson(answer.text))
    if (!parsed.success) throw new SidecarRejectedError(502, issues(parsed.error), request, true)
    return parsed.data
  }

  /** Starts a restore job (`owlat restore FILE`); `202 {jobId}`. */
  restoreBackup(request: RestoreRequest): Promise<{ jobId: string }> {
    return this.call('POST', '/v1/restores', jobAcceptedSchema, restoreRequestSchema.parse(request))
  }

  /** One archive's bytes as a stream, with its length (the page's download link). */
  async downloadBackup(file: string, signal?: AbortSignal): Promise<{ stream: ReadableStream<Uint8Array>, bytes: number | null }> {
    const path = `/v1/backups/${encodeURIComponent(backupFileSchema.parse(file))}`
    const answer = await this.send('GET', path, { stream: true, signal: signal ?? AbortSignal.timeout(BACKUP_TIMEOUT_MS) })
    if (answer.status !== 200 || !answer.stream) throw this.rejected(answer, `GET ${path}`)
    const length = Number(answer.headers.get('content-length'))
    return { stream: answer.stream, bytes: Number.isFinite(length) && length > 0 ? length : null }
  }

  /** The newest lines; each with its time and version where the updater says (older ones send text only). */
  async serviceLogs(name: string, tail: number): Promise<Array<{ line: string, at: number | null, version: string | null }>> {
    const answer = await this.call('GET', `/v1/services/${encodeURIComponent(name)}/logs?tail=${tail}`, serviceLogsSchema)
    return answer.entries ?? answer.lines.map(line => ({ line, at: null, version: null }))
  }

  /** The job's events after `lastEventId` (all of them when null), until the sidecar ends the stream. */
  async* events(jobId: string, opts: { lastEventId: string | null, signal: AbortSignal }): AsyncGenerator<StreamedEvent> {
    const path = `/v1/jobs/${encodeURIComponent(jobId)}/events`
    const request = `GET ${path}`
    const answer = await this.send('GET', path, {
      stream: true,
      signal: opts.signal,
      headers: opts.lastEventId === null ? {} : { 'last-event-id': opts.lastEventId },
    })
    if (answer.status >= 400) throw this.rejected(answer, request)
    if (!answer.stream) return
    try {
      for await (const message of readSse(answer.stream as unknown as AsyncIterable<Uint8Array>)) {
        // Other event types (the heartbeat) only keep the connection alive.
        if (message.event !== 'message') continue
        const parsed = jobEventSchema.safeParse(parseJson(message.data))
        if (!parsed.success) throw new SidecarRejectedError(502, `event ${message.id ?? '?'}: ${issues(parsed.error)}`, request, true)
        yield { id: message.id, event: parsed.data }
      }
    }
    catch (err) {
      if (err instanceof SidecarRejectedError || opts.signal.aborted) throw err
      // The connection broke mid-stream (the sidecar restarted, the network dropped).
      throw new SidecarUnreachableError(this.url, describe(err, this.timeoutMs))
    }
  }
}
