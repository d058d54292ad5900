/**
 * The sidecar's HTTP API (DESIGN.md, Sidecar contract) on h3. Every request must be signed with
 * the instance secret; the signed path is the request target exactly as sent, query included.
 * Every failure answers `{error}`.
 */
import { createServer, type Server } from 'node:http'
import {
  createApp, createError, createRouter, defineEventHandler, getQuery, getRequestHeader, getRequestURL, getRouterParam,
  send, setResponseHeader, setResponseStatus, toNodeListener, type H3Error, type H3Event,
} from 'h3'
import { z } from 'zod'
import type { ComposePolicyOptions } from '../shared/compose-policy'
import { ReplayGuard, verifyRequestHeaders } from '../shared/request-signing'
import type { SidecarHealth } from '../shared/schemas/job'
import type { Driver } from './drivers/types'
import { readBody } from './http'
import { admitJob } from './job-request'
import type { Journal } from './journal'
import type { ReleaseArchive } from './release-archive'
import type { Runner } from './runner'
import { streamJobEvents } from './sse'

export interface ServerDeps {
  journal: Journal
  runner: Runner
  driver: Driver
  archive: ReleaseArchive
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

function parseOr400<T>(schema: z.ZodType<T>, value: unknown): T {
  const parsed = schema.safeParse(value)
  if (!parsed.success) throw createError({ statusCode: 400, message: parsed.error.issues.map(i => i.message).join('; ') })
  return parsed.data
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'))
  }
  catch {
    throw createError({ statusCode: 400, message: 'request body is not valid JSON' })
  }
}

/** The signed body, read (within its bound) before any route sees the request. */
function rawBody(event: H3Event): Buffer {
  return event.context.rawBody as Buffer
}

export function createSidecarServer(deps: ServerDeps): Server {
  const replay = new ReplayGuard()
  const installedVersion = () => deps.journal.installedVersion() ?? deps.driver.installedVersion()

  const app = createApp({
    onError: async (error: H3Error, event: H3Event) => {
      const { pathname } = getRequestURL(event)
      let message = error.message
      // h3's router words these for people; the contract's clients read `{error}`.
      if (error.statusCode === 404 && error.statusMessage?.startsWith('Cannot find any route')) message = `no route ${pathname}`
      if (error.statusCode === 405) message = `${event.method} is not allowed on ${pathname}`
      if (error.unhandled) {
        deps.log(`${event.method} ${event.path}: ${(error.cause as Error | undefined)?.stack ?? error.message}`)
        message = `internal error: ${message}`
      }
      // A stream that already started cannot carry an error any more.
      if (event.node.res.headersSent) {
        event.node.res.destroy()
        return
      }
      setResponseStatus(event, error.statusCode)
      await send(event, JSON.stringify({ error: message }), 'application/json; charset=utf-8')
    },
  })

  app.use(defineEventHandler(async (event) => {
    setResponseHeader(event, 'cache-control', 'no-store')
    const body = await readBody(event.node.req)
    const check = verifyRequestHeaders({
      header: name => getRequestHeader(event, name),
      method: event.method,
      path: event.path,
      body,
      secret: deps.secret,
      replay,
    })
    if (!check.ok) throw createError({ statusCode: 401, message: check.reason })
    event.context.rawBody = body
  }))

  const router = createRouter({ preemptive: true })

  router.get('/v1/health', defineEventHandler(async (): Promise<SidecarHealth> => ({
    version: installedVersion(),
    driver: deps.driver.name,
    services: await deps.driver.health(),
    backups: deps.driver.capabilities.backups,
  })))

  router.post('/v1/jobs', defineEventHandler(async (event) => {
    const admission = await admitJob(parseJson(rawBody(event)), {
      journal: deps.journal,
      releasePublicKey: deps.releasePublicKey,
      composePolicy: deps.composePolicy,
      installedVersion: installedVersion(),
      archive: deps.archive,
      capabilities: deps.driver.capabilities,
    })
    if (!admission.ok) throw createError({ statusCode: admission.status, message: admission.error })
    deps.log(`job ${admission.job.id}: ${admission.job.kind} ${admission.job.fromVersion} → ${admission.job.toVersion} accepted`)
    deps.runner.submit(admission.job)
    setResponseStatus(event, 202)
    return { jobId: admission.job.id }
  }))

  router.get('/v1/jobs', defineEventHandler((event) => {
    const limit = parseOr400(limitSchema, getQuery(event).limit ?? 20)
    return { jobs: deps.journal.listJobs(limit) }
  }))

  const jobOf = (event: H3Event) => {
    const id = parseOr400(jobIdSchema, getRouterParam(event, 'id', { decode: true }))
    const job = deps.journal.getJob(id)
    if (!job) throw createError({ statusCode: 404, message: `no job ${id}` })
    return job
  }

  router.get('/v1/jobs/:id', defineEventHandler(event => jobOf(event)))

  router.get('/v1/jobs/:id/events', defineEventHandler((event) => {
    const job = jobOf(event)
    const lastEventId = getRequestHeader(event, 'last-event-id')
    const after = lastEventId === undefined ? 0 : parseOr400(lastEventIdSchema, lastEventId)
    return streamJobEvents(event, deps.journal, job.id, after)
  }))

  // Service logs for `owlat logs SERVICE`: the driver keeps a bounded tail per service.
  router.get('/v1/services/:name/logs', defineEventHandler(async (event) => {
    const name = parseOr400(serviceNameSchema, getRouterParam(event, 'name', { decode: true }))
    const tail = parseOr400(tailSchema, getQuery(event).tail ?? 200)
    const services = await deps.driver.health()
    if (!services.some(s => s.name === name)) {
      throw createError({ statusCode: 404, message: `no service ${name} (services: ${services.map(s => s.name).join(', ')})` })
    }
    const entries = deps.driver.serviceLogs(name, tail)
    return { lines: entries.map(e => e.line), entries }
  }))

  app.use(router)
  return createServer(toNodeListener(app))
}
