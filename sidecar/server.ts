/**
 * The sidecar's HTTP API (DESIGN.md, Sidecar contract). Every request must be signed with the
 * instance secret; the signed path is the request target exactly as sent, query included.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { z } from 'zod'
import type { ComposePolicyOptions } from '../shared/compose-policy'
import { ReplayGuard, verifyIncomingRequest } from '../shared/request-signing'
import type { SidecarHealth } from '../shared/schemas/job'
import type { Driver } from './drivers/types'
import { HttpError, readBody, sendError, sendJson } from './http'
import { admitJob } from './job-request'
import type { Journal } from './journal'
import type { Runner } from './runner'
import { streamJobEvents } from './sse'

export interface ServerDeps {
  journal: Journal
  runner: Runner
  driver: Driver
  secret: string
  releasePublicKey: string
  composePolicy: ComposePolicyOptions
  log: (line: string) => void
}

const limitSchema = z.coerce.number({ error: 'limit must be a number' }).int('limit must be an integer').min(1, 'limit must be at least 1').max(100, 'limit must be at most 100')
const jobIdSchema = z.string().regex(/^[\w-]{1,100}$/, 'malformed job id')
const tailSchema = z.coerce.number({ error: 'tail must be a number' }).int('tail must be an integer').min(1, 'tail must be at least 1').max(5000, 'tail must be at most 5000')
const serviceNameSchema = z.string().regex(/^[\w.-]{1,100}$/, 'malformed service name')
const lastEventIdSchema = z.string().trim().regex(/^\d{1,15}$/, 'Last-Event-ID must be an event sequence number').transform(Number)

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name]
  return Array.isArray(value) ? value[0] : value
}

function parseOr400<T>(schema: z.ZodType<T>, value: unknown): T {
  const parsed = schema.safeParse(value)
  if (!parsed.success) throw new HttpError(400, parsed.error.issues.map(i => i.message).join('; '))
  return parsed.data
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'))
  }
  catch {
    throw new HttpError(400, 'request body is not valid JSON')
  }
}

export function createSidecarServer(deps: ServerDeps): Server {
  const replay = new ReplayGuard()

  async function route(req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://sidecar.invalid')
    const method = req.method ?? 'GET'
    const parts = url.pathname.split('/').filter(Boolean)
    const allow = (expected: string) => {
      if (method !== expected) throw new HttpError(405, `${method} is not allowed on ${url.pathname}`)
    }

    if (url.pathname === '/v1/health') {
      allow('GET')
      const health: SidecarHealth = {
        version: deps.journal.installedVersion() ?? deps.driver.installedVersion(),
        driver: deps.driver.name,
        services: await deps.driver.health(),
        backups: deps.driver.backups,
      }
      return sendJson(res, 200, health)
    }
    if (url.pathname === '/v1/jobs') {
      if (method === 'POST') {
        const admission = admitJob(parseJson(body), {
          journal: deps.journal,
          releasePublicKey: deps.releasePublicKey,
          composePolicy: deps.composePolicy,
          installedVersion: deps.journal.installedVersion() ?? deps.driver.installedVersion(),
        })
        if (!admission.ok) return sendError(res, admission.status, admission.error)
        deps.log(`job ${admission.job.id}: ${admission.job.kind} ${admission.job.fromVersion} → ${admission.job.toVersion} accepted`)
        deps.runner.submit(admission.job)
        return sendJson(res, 202, { jobId: admission.job.id })
      }
      allow('GET')
      const limit = parseOr400(limitSchema, url.searchParams.get('limit') ?? 20)
      return sendJson(res, 200, { jobs: deps.journal.listJobs(limit) })
    }
    if (parts[0] === 'v1' && parts[1] === 'jobs' && parts.length >= 3 && parts.length <= 4) {
      const id = parseOr400(jobIdSchema, parts[2])
      if (parts.length === 4 && parts[3] !== 'events') throw new HttpError(404, `no route ${url.pathname}`)
      allow('GET')
      const job = deps.journal.getJob(id)
      if (!job) throw new HttpError(404, `no job ${id}`)
      if (parts.length === 3) return sendJson(res, 200, job)
      const lastEventId = header(req, 'last-event-id')
      const after = lastEventId === undefined ? 0 : parseOr400(lastEventIdSchema, lastEventId)
      return streamJobEvents(res, deps.journal, id, after)
    }
    // Service logs for `owlat logs SERVICE`: the driver keeps a bounded tail per service.
    if (parts[0] === 'v1' && parts[1] === 'services' && parts.length === 4 && parts[3] === 'logs') {
      allow('GET')
      const name = parseOr400(serviceNameSchema, parts[2])
      const tail = parseOr400(tailSchema, url.searchParams.get('tail') ?? 200)
      const services = await deps.driver.health()
      if (!services.some(s => s.name === name)) {
        throw new HttpError(404, `no service ${name} (services: ${services.map(s => s.name).join(', ')})`)
      }
      return sendJson(res, 200, { lines: deps.driver.serviceLogs(name, tail) })
    }
    throw new HttpError(404, `no route ${url.pathname}`)
  }

  return createServer((req, res) => {
    const handle = async () => {
      const body = await readBody(req)
      const check = verifyIncomingRequest(req, body, deps.secret, replay)
      if (!check.ok) throw new HttpError(401, check.reason)
      await route(req, res, body)
    }
    handle().catch((err: unknown) => {
      if (err instanceof HttpError) return sendError(res, err.status, err.message)
      deps.log(`${req.method} ${req.url}: ${(err as Error).stack ?? String(err)}`)
      sendError(res, 500, `internal error: ${(err as Error).message}`)
    })
  })
}
