/**
 * Client for the updater sidecar. Every request is signed with the instance secret (the signed
 * path includes the query string) and every answer is parsed with the shared schemas.
 * Framework-independent: the caller passes the URL and secret.
 */
import { ofetch } from 'ofetch'
import { z } from 'zod'
import { signRequest } from '../../shared/request-signing'
import {
  jobAcceptedSchema, jobListSchema, jobRequestSchema, jobSchema, sidecarHealthSchema,
  type Job, type JobRequest, type SidecarHealth,
} from '../../shared/schemas/job'

/** The sidecar could not be reached at all (down, restarting, wrong URL, timeout). */
export class SidecarUnreachableError extends Error {
  constructor(readonly url: string, cause: unknown) {
    super(`updater unreachable at ${url}: ${cause instanceof Error ? cause.message : String(cause)}`)
    this.name = 'SidecarUnreachableError'
  }
}

/** The sidecar answered, but not with what was asked for. `status` is its HTTP status (502 for a garbled answer). */
export class SidecarRejectedError extends Error {
  constructor(readonly status: number, message: string) {
    super(message)
    this.name = 'SidecarRejectedError'
  }
}

export interface SidecarClient {
  createJob(request: JobRequest): Promise<{ jobId: string }>
  getJob(jobId: string): Promise<Job>
  /** The sidecar's most recent jobs, newest first (it caps `limit` at 100). */
  listJobs(limit: number): Promise<Job[]>
  health(): Promise<SidecarHealth>
}

const errorBodySchema = z.object({ error: z.string() })

export function createSidecarClient(opts: { baseUrl: string, secret: () => string, timeoutMs?: number }): SidecarClient {
  const base = opts.baseUrl.replace(/\/+$/, '')

  async function request<T>(method: 'GET' | 'POST', path: string, schema: z.ZodType<T>, body?: unknown): Promise<T> {
    const url = `${base}${path}`
    // Sent exactly as signed: the signature covers these bytes.
    const text = body === undefined ? undefined : JSON.stringify(body)
    const headers: Record<string, string> = {
      ...signRequest({ secret: opts.secret(), method, path, body: text }),
      accept: 'application/json',
      ...(text === undefined ? {} : { 'content-type': 'application/json' }),
    }
    let status: number
    let raw: string
    try {
      const res = await ofetch.raw<string, 'text'>(url, {
        method,
        body: text,
        headers,
        responseType: 'text',
        ignoreResponseError: true,
        retry: 0,
        timeout: opts.timeoutMs ?? 10_000,
      })
      status = res.status
      raw = res._data ?? ''
    }
    catch (err) {
      throw new SidecarUnreachableError(base, err)
    }
    let json: unknown
    try {
      json = raw ? JSON.parse(raw) : null
    }
    catch {
      json = null
    }
    if (status >= 400) {
      const parsed = errorBodySchema.safeParse(json)
      throw new SidecarRejectedError(status, parsed.success ? parsed.data.error : `updater answered ${status} to ${method} ${path}`)
    }
    const parsed = schema.safeParse(json)
    if (!parsed.success) {
      throw new SidecarRejectedError(502, `updater sent an unexpected answer to ${method} ${path}: ${parsed.error.issues.map(i => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`)
    }
    return parsed.data
  }

  return {
    createJob: async req => request('POST', '/v1/jobs', jobAcceptedSchema, jobRequestSchema.parse(req)),
    getJob: jobId => request('GET', `/v1/jobs/${encodeURIComponent(jobId)}`, jobSchema),
    listJobs: async limit => (await request('GET', `/v1/jobs?limit=${Math.max(1, Math.min(Math.trunc(limit), 100))}`, jobListSchema)).jobs,
    health: () => request('GET', '/v1/health', sidecarHealthSchema),
  }
}
