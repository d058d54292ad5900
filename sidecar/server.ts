/**
 * The sidecar's HTTP API (DESIGN.md, Sidecar contract) on h3. Every request must be signed with
 * the instance secret; the signed path is the request target exactly as sent, query included.
 * Every failure answers `{error}`, and is one line in the log.
 *
 * An unauthenticated client gets nothing for free: the signing headers are checked (present,
 * well-formed, fresh) before a byte of the body is read, the body is bounded by route
 * (`bodyLimit`: none on a GET), and the server bounds how long a request may take to arrive and
 * how many connections may be open (`ServerLimits`).
 */
import { createReadStream, existsSync, readFileSync, rmSync, statSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { Socket } from 'node:net'
import { join } from 'node:path'
import {
  createApp, createError, createRouter, defineEventHandler, getQuery, getRequestHeader, getRequestURL, getRouterParam,
  send, sendStream, setResponseHeader, setResponseStatus, toNodeListener, type H3Error, type H3Event,
} from 'h3'
import { z } from 'zod'
import { checkComposePolicy, describePolicyViolations, type ComposePolicyOptions } from '../shared/compose-policy'
import { BUNDLE_LOG_LINES, BUNDLE_RUNS, bundleBytes, secretValues } from '../shared/node/bundle'
import { formatCheck } from '../shared/node/checks/types'
import { checkRequestSignatureHeaders, ReplayGuard, verifyRequestHeaders } from '../shared/request-signing'
import { stackChecksRequestSchema, type HostFacts, type SidecarHealth } from '../shared/schemas/job'
import { backupFileSchema } from '../shared/schemas/backup'
import type { BundleImportResult } from '../shared/schemas/bundle'
import { BundleError } from '../shared/node/release-bundle'
import { BackupRefused, type Backups } from './backups'
import { OVERRIDE_FILE } from './drivers/compose-cli'
import type { Driver } from './drivers/types'
import { bodyLimit, BUNDLE_PATH, DEFAULT_LIMITS, readBody, type ServerLimits } from './http'
import { receiveToFile } from '../shared/node/receive-file'
import { admitJob } from './job-request'
import { isStorageFailure, type Journal } from './journal'
import type { ReleaseArchive } from './release-archive'
import { bundleWorkPath, importBundle } from './release-bundles'
import type { Runner } from './runner'
import { streamJobEvents } from './sse'

export interface ServerDeps {
  journal: Journal
  runner: Runner
  driver: Driver
  archive: ReleaseArchive
  /** Backup archives and restores (`owlat backup`, `owlat restore FILE`). */
  backups: Backups
  secret: string
  /** The configured keys; those learned by rotation are in the journal. */
  releasePublicKey: readonly string[]
  composePolicy: ComposePolicyOptions
  /** Offline release bundles: where uploads wait while judged, the largest taken. */
  bundles: { workDir: string, maxBytes: number }
  log: (line: string) => void
  /** Defaults to DEFAULT_LIMITS; tests shorten them. */
  limits?: Partial<ServerLimits>
}

/** The updater's own version: the image's (OWLAT_VERSION), else the package's. */
export function updaterVersion(): string {
  if (process.env.OWLAT_VERSION?.trim()) return process.env.OWLAT_VERSION.trim()
  try {
    return (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: string }).version ?? 'unknown'
  }
  catch {
    return 'unknown'
  }
}

/** What `GET /v1/health` reports of the updater and its host for the plan's checks; null from a driver that cannot say. */
export async function hostFactsOf(driver: Driver): Promise<HostFacts | null> {
  return driver.hostFacts ? { updater: updaterVersion(), ...await driver.hostFacts() } : null
}

/** A request as the log names it: method and target, bounded and with control characters escaped. */
function describeRequest(event: H3Event): string {
  const target = event.node.req.url ?? '/'
  const shown = JSON.stringify(target.length > 200 ? `${target.slice(0, 200)}…` : target)
  return `${event.method} ${shown} from ${event.node.req.socket.remoteAddress ?? 'unknown'}`
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
  const limits: ServerLimits = { ...DEFAULT_LIMITS, ...deps.limits }
  const installedVersion = () => deps.journal.installedVersion() ?? deps.driver.installedVersion()

  const app = createApp({
    onError: async (error: H3Error, event: H3Event) => {
      const { pathname } = getRequestURL(event)
      let message = error.message
      // h3's router words these for people; the contract's clients read `{error}`.
      if (error.statusCode === 404 && error.statusMessage?.startsWith('Cannot find any route')) message = `no route ${pathname}`
      if (error.statusCode === 405) message = `${event.method} is not allowed on ${pathname}`
      const cause = error.cause as Error | undefined
      if (error.unhandled && isStorageFailure(cause)) {
        // A full disk is the operator's to fix, not a bug: one line, and a status that says so.
        error.statusCode = 503
        message = `the updater cannot write its data: ${cause!.message}`
        deps.log(`${describeRequest(event)}: 503 ${message}`)
      }
      else if (error.unhandled) {
        deps.log(`${describeRequest(event)}: ${cause?.stack ?? error.message}`)
        message = `internal error: ${message}`
      }
      else {
        deps.log(`refused ${describeRequest(event)}: ${error.statusCode} ${message}`)
      }
      // A stream that already started cannot carry an error any more, nor can a closed connection.
      if (event.node.res.headersSent || event.node.req.socket.destroyed) {
        event.node.res.destroy()
        return
      }
      setResponseStatus(event, error.statusCode)
      await send(event, JSON.stringify({ error: message }), 'application/json; charset=utf-8')
    },
  })

  app.use(defineEventHandler(async (event) => {
    setResponseHeader(event, 'cache-control', 'no-store')
    const header = (name: string) => getRequestHeader(event, name)
    // Before the body: an unsigned or stale request is refused without reading a byte of it.
    const form = checkRequestSignatureHeaders(header)
    if (!form.ok) throw createError({ statusCode: 401, message: form.reason })
    if (event.method === 'POST' && getRequestURL(event).pathname === BUNDLE_PATH) {
      // A bundle holds images: to disk as it comes, signed by its sha256, never whole in memory.
      const arrived = Date.now()
      const file = bundleWorkPath(deps.bundles.workDir, '.upload')
      const { sha256 } = await receiveToFile(event.node.req, file, deps.bundles.maxBytes)
      // Fresh when it arrived: the body itself may take longer than the signature's window.
      const check = verifyRequestHeaders({ header, method: event.method, path: event.path, body: { sha256 }, secret: deps.secret, replay, now: arrived })
      if (!check.ok) {
        rmSync(file, { force: true })
        throw createError({ statusCode: 401, message: check.reason })
      }
      event.context.bundleFile = file
      return
    }
    const body = await readBody(event.node.req, bodyLimit(event.method, getRequestURL(event).pathname))
    const check = verifyRequestHeaders({
      header,
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
    rehearsals: deps.driver.capabilities.rehearsals,
    host: await hostFactsOf(deps.driver),
    indexSerial: deps.journal.releaseTrust().highestSerial,
  })))

  const refusal = (err: unknown) => err instanceof BackupRefused ? createError({ statusCode: err.status, message: err.message }) : err

  router.post('/v1/jobs', defineEventHandler(async (event) => {
    // No backup may start between the admission's check for an active job and the job it journals.
    const admission = await deps.backups.admitting(() => admitJob(parseJson(rawBody(event)), {
      journal: deps.journal,
      releasePublicKey: deps.releasePublicKey,
      composePolicy: deps.composePolicy,
      installedVersion: installedVersion(),
      archive: deps.archive,
      capabilities: deps.driver.capabilities,
    })).catch((err: unknown) => {
      throw refusal(err)
    })
    if (!admission.ok) throw createError({ statusCode: admission.status, message: admission.error })
    deps.log(`job ${admission.job.id}: ${admission.job.kind} ${admission.job.fromVersion} → ${admission.job.toVersion} accepted`)
    deps.runner.submit(admission.job)
    setResponseStatus(event, 202)
    return { jobId: admission.job.id }
  }))

  let importing: string | null = null
  router.post(BUNDLE_PATH, defineEventHandler(async (event): Promise<BundleImportResult> => {
    const file = event.context.bundleFile as string
    try {
      if (importing) throw createError({ statusCode: 409, message: `another bundle is being imported (since ${importing})` })
      importing = new Date().toISOString()
      try {
        return await importBundle(file, { ...deps, workDir: deps.bundles.workDir })
      }
      catch (err) {
        if (err instanceof BundleError) throw createError({ statusCode: 400, message: `bundle refused, nothing was kept: ${err.message}` })
        throw err
      }
      finally {
        importing = null
      }
    }
    finally {
      rmSync(file, { force: true })
    }
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
    const entries = await deps.driver.serviceLogs(name, tail)
    return { lines: entries.map(e => e.line), entries }
  }))

  // The stack checks on the compose file a run would apply, for the plan: what the compose
  // driver's preflight judges, asked before the click. Nothing is read from a file the policy refuses.
  router.post('/v1/checks', defineEventHandler(async (event) => {
    const { compose } = parseOr400(stackChecksRequestSchema, parseJson(rawBody(event)))
    if (!deps.driver.checks) return { checks: null }
    const policy = checkComposePolicy(compose, deps.composePolicy)
    if (!policy.ok) throw createError({ statusCode: 422, message: describePolicyViolations(policy.violations) })
    try {
      return { checks: await deps.driver.checks(undefined, compose) }
    }
    catch (err) {
      throw createError({ statusCode: 422, message: `the stack checks could not judge this compose file: ${(err as Error).message}` })
    }
  }))

  // The bug-report bundle the page offers (`owlat doctor --bundle` writes the same set with doctor's output).
  router.get('/v1/bundle', defineEventHandler(async (event) => {
    const services = await deps.driver.health()
    const files: Record<string, string> = {
      'checks.txt': deps.driver.checks
        ? await deps.driver.checks().then(list => `${list.map(formatCheck).join('\n')}\n`, (err: Error) => `unavailable: ${err.message}\n`)
        : 'unavailable: this driver runs no stack checks\n',
      'ps.txt': `${['SERVICE', 'IMAGE', 'STATE', 'HEALTH'].join('\t')}\n${services.map(sv => [sv.name, sv.image, sv.state, sv.health].join('\t')).join('\n')}\n`,
      'runs.json': `${JSON.stringify(deps.journal.listJobs(BUNDLE_RUNS), null, 2)}\n`,
    }
    for (const sv of services) files[`logs/${sv.name}.txt`] = `${(await deps.driver.serviceLogs(sv.name, BUNDLE_LOG_LINES)).map(e => e.line).join('\n')}\n`
    for (const name of ['docker-compose.yml', OVERRIDE_FILE]) {
      const path = join(deps.driver.projectDir, name)
      if (existsSync(path)) files[name] = readFileSync(path, 'utf8')
    }
    const secrets = secretValues(deps.driver.secretEnvironments?.() ?? [], [deps.secret])
    const bytes = await bundleBytes(files, secrets)
    setResponseHeader(event, 'content-disposition', `attachment; filename="owlat-bundle-${new Date().toISOString().replace(/[:.]/g, '-')}.tar.gz"`)
    return send(event, bytes, 'application/gzip')
  }))

  // Backup archives: the list, taking one now, one's bytes, and a restore (a job of kind `restore`).

  router.get('/v1/backups', defineEventHandler(() => deps.backups.list()))

  router.post('/v1/backups', defineEventHandler(async (event) => {
    const body = rawBody(event)
    const reason = parseOr400(z.object({ reason: z.enum(['manual', 'scheduled']).default('manual') }), body.length ? parseJson(body) : {}).reason
    try {
      const created = await deps.backups.create(reason)
      deps.log(`backup ${created.backup.file} taken (${reason})`)
      setResponseStatus(event, 201)
      return created
    }
    catch (err) {
      throw refusal(err)
    }
  }))

  router.get('/v1/backups/:file', defineEventHandler((event) => {
    const file = parseOr400(backupFileSchema, getRouterParam(event, 'file', { decode: true }))
    let path: string
    try {
      path = deps.backups.path(file)
    }
    catch (err) {
      throw refusal(err)
    }
    setResponseHeader(event, 'content-type', 'application/gzip')
    setResponseHeader(event, 'content-length', statSync(path).size)
    setResponseHeader(event, 'content-disposition', `attachment; filename="${file}"`)
    return sendStream(event, createReadStream(path))
  }))

  router.post('/v1/restores', defineEventHandler(async (event) => {
    let job
    try {
      job = await deps.backups.admitRestore(parseJson(rawBody(event)))
    }
    catch (err) {
      throw refusal(err)
    }
    deps.log(`job ${job.id}: restore of ${job.toVersion} from a backup accepted`)
    deps.runner.submit(job)
    setResponseStatus(event, 202)
    return { jobId: job.id }
  }))

  app.use(router)
  const server = createServer({
    requestTimeout: limits.requestTimeoutMs,
    headersTimeout: limits.headersTimeoutMs,
    connectionsCheckingInterval: limits.checkIntervalMs,
  }, toNodeListener(app))
  server.maxConnections = limits.maxConnections
  server.on('drop', (data?: { remoteAddress?: string }) => {
    deps.log(`refused a connection from ${data?.remoteAddress ?? 'unknown'}: ${limits.maxConnections} are open already`)
  })
  // A malformed request or one past its timeout: one line, never a stack.
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    deps.log(`refused a request from ${socket.remoteAddress ?? 'unknown'}: ${err.code ?? err.message}`)
    // Node's own rule: a raw answer only when no response has started on the socket.
    const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage
    if (socket.writable && !inFlight?.headersSent && (err.code === 'ERR_HTTP_REQUEST_TIMEOUT' || err.code?.startsWith('HPE_'))) {
      const status = err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : '400 Bad Request'
      socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`)
    }
    else {
      socket.destroy()
    }
  })
  return server
}
