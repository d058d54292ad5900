/**
 * The production store: the System & Updates Convex component (`convex/component`) in the app
 * that installed it, called with the deployment's admin key through the two functions the app
 * exposes for it (`convex/expose.ts`: `<module>:query` and `<module>:mutation`, module
 * `owlatSystem` by default). Every rule (one active run, one run per job, legal transitions,
 * bounded step logs) is enforced inside the component's mutations; this adapter only translates
 * arguments and turns the functions' `ConvexError` data back into the same typed errors the
 * SQLite store throws. Framework-independent (no Nitro auto-imports), like the SQLite store.
 */
import { ConvexHttpClient } from 'convex/browser'
import { getFunctionName, makeFunctionReference, type FunctionArgs, type FunctionReference, type FunctionReturnType } from 'convex/server'
import { z } from 'zod'
import { api } from '../../../convex/component/_generated/api'
import { jobSchema } from '../../../shared/schemas/job'
import { releaseCacheSchema, releaseTrustSchema } from '../../../shared/schemas/release'
import { newRunSchema, newUserSchema, runPatchSchema, storedSettingsPatchSchema, userPatchSchema } from '../../../shared/schemas/api'
import { notificationSchema } from '../../../shared/notifications'
import type { OutboxDelivery, OutboxStore } from '../../../shared/node/notify/outbox'
import type { StoredDelivery } from '../../../convex/component/outbox'
import { ActiveRunError, DuplicateUserError, RunNotFoundError, UserNotFoundError, type SystemStore } from './types'

/**
 * How the store reaches the component's functions (`ref` names one, `runs:open`, and types the
 * call): production wraps `ConvexHttpClient`, tests `convex-test`; both go through the app.
 */
export interface ConvexCaller {
  query<Ref extends FunctionReference<'query'>>(ref: Ref, args: FunctionArgs<Ref>): Promise<FunctionReturnType<Ref>>
  mutation<Ref extends FunctionReference<'mutation'>>(ref: Ref, args: FunctionArgs<Ref>): Promise<FunctionReturnType<Ref>>
}

/** The app module that exposes the component when none is configured (`convex/owlatSystem.ts`). */
export const DEFAULT_CONVEX_MODULE = 'owlatSystem'

/** The data of the `ConvexError`s in convex/model.ts (`StoreErrorData`), as it arrives here. */
const storeErrorDataSchema = z.discriminatedUnion('code', [
  z.object({ code: z.literal('ACTIVE_RUN'), activeRunId: z.string().nullable() }),
  z.object({ code: z.literal('RUN_NOT_FOUND'), runId: z.string() }),
  z.object({ code: z.literal('DUPLICATE_USER'), email: z.string() }),
  z.object({ code: z.literal('USER_NOT_FOUND'), userId: z.string() }),
  z.object({ code: z.literal('ILLEGAL_TRANSITION'), from: z.string(), to: z.string() }),
  z.object({ code: z.literal('JOB_TAKEN'), jobId: z.string(), runId: z.string() }),
])

/** The typed error a refusal from the functions stands for; anything else passes through unchanged. */
export function toStoreError(err: unknown): unknown {
  if (!(err instanceof Error) || !('data' in err)) return err
  const parsed = storeErrorDataSchema.safeParse(err.data)
  if (!parsed.success) return err
  const data = parsed.data
  switch (data.code) {
    case 'ACTIVE_RUN': return new ActiveRunError(data.activeRunId)
    case 'RUN_NOT_FOUND': return new RunNotFoundError(data.runId)
    case 'DUPLICATE_USER': return new DuplicateUserError(data.email)
    case 'USER_NOT_FOUND': return new UserNotFoundError(data.userId)
    // The same message as `assertTransition`, which the SQLite store throws.
    case 'ILLEGAL_TRANSITION': return new Error(`illegal run transition ${data.from} → ${data.to}`)
    case 'JOB_TAKEN': return new Error(`job ${data.jobId} already belongs to run ${data.runId}`)
  }
}

function toDelivery(stored: StoredDelivery): OutboxDelivery {
  return { ...stored, notification: notificationSchema.parse(JSON.parse(stored.notification)) }
}

export function createConvexStore(caller: ConvexCaller): SystemStore {
  async function query<Ref extends FunctionReference<'query'>>(ref: Ref, args: FunctionArgs<Ref>): Promise<FunctionReturnType<Ref>> {
    try {
      return await caller.query(ref, args)
    }
    catch (err) {
      throw toStoreError(err)
    }
  }

  async function mutation<Ref extends FunctionReference<'mutation'>>(ref: Ref, args: FunctionArgs<Ref>): Promise<FunctionReturnType<Ref>> {
    try {
      return await caller.mutation(ref, args)
    }
    catch (err) {
      throw toStoreError(err)
    }
  }

  const outbox: OutboxStore = {
    enqueue: ({ notification, ...delivery }) => mutation(api.outbox.enqueue, { ...delivery, notification: JSON.stringify(notification) }),
    due: async (now, limit, claimUntil) => (await mutation(api.outbox.due, { now, limit, claimUntil })).map(toDelivery),
    markDelivered: async (id, at) => {
      await mutation(api.outbox.markDelivered, { id, at })
    },
    markFailed: async (id, nextAttemptAt, error, at) => {
      await mutation(api.outbox.markFailed, { id, nextAttemptAt, error, at })
    },
    deliveriesOf: async notificationId => (await query(api.outbox.deliveriesOf, { notificationId })).map(toDelivery),
  }

  // Convex validators refuse unknown fields, and the functions' validators are derived from the
  // shared schemas: parsing with the same schemas drops whatever else a caller's object carries.
  return {
    getUserByEmail: email => query(api.users.getByEmail, { email }),
    getUserById: id => query(api.users.getById, { id }),
    createUser: user => mutation(api.users.create, newUserSchema.parse(user)),
    listUsers: () => query(api.users.list, {}),
    updateUser: (id, patch) => mutation(api.users.update, { id, patch: userPatchSchema.parse(patch) }),
    revokeSessions: id => mutation(api.users.revokeSessions, { id }),
    setNotificationPreference: (id, notifications) => mutation(api.users.setNotifications, { id, notifications }),

    openRun: run => mutation(api.runs.open, newRunSchema.parse(run)),
    attachJob: (runId, jobId) => mutation(api.runs.attachJob, { runId, jobId }),
    updateRun: (runId, patch) => mutation(api.runs.update, { runId, patch: runPatchSchema.parse(patch) }),
    getRun: runId => query(api.runs.get, { runId }),
    getRunByJobId: jobId => query(api.runs.getByJobId, { jobId }),
    adoptJob: job => mutation(api.runs.adoptJob, { job: jobSchema.parse(job) }),
    getActiveRun: () => query(api.runs.getActive, {}),
    listRuns: limit => query(api.runs.list, { limit }),

    acknowledgeRun: (runId, by) => mutation(api.acknowledgements.acknowledge, { runId, userId: by.userId, email: by.email }),
    getAcknowledgement: runId => query(api.acknowledgements.get, { runId }),

    dismiss: async (by, version) => {
      await mutation(api.dismissals.dismiss, { userId: by.userId, email: by.email, version })
    },
    isDismissed: (userId, version) => query(api.dismissals.isDismissed, { userId, version }),

    recordReleaseImport: async (by, release) => {
      await mutation(api.releases.recordImport, { email: by.email, ...release })
    },

    getReleaseCache: () => query(api.releases.getCache, {}),
    saveReleaseCache: async (cache) => {
      await mutation(api.releases.saveCache, releaseCacheSchema.parse(cache))
    },

    getReleaseCheckState: async () => {
      const state = await query(api.releases.getCheckState, {})
      return { ...state, fingerprints: Object.fromEntries(state.fingerprints.map(f => [f.version, f.fingerprint])) }
    },
    saveReleaseCheckState: async (patch) => {
      await mutation(api.releases.saveCheckState, {
        ...(patch.retryAt !== undefined ? { retryAt: patch.retryAt } : {}),
        ...(patch.etag !== undefined ? { etag: patch.etag } : {}),
        ...(patch.fingerprints !== undefined
          ? { fingerprints: Object.entries(patch.fingerprints).map(([version, fingerprint]) => ({ version, fingerprint })) }
          : {}),
      })
    },
    claimReleaseCheck: (now, nextAt) => mutation(api.releases.claimCheck, { now, nextAt }),

    getReleaseTrust: () => query(api.releases.getTrust, {}),
    saveReleaseTrust: patch => mutation(api.releases.saveTrust, { patch: releaseTrustSchema.partial().parse(patch) }),

    getSettings: () => query(api.settings.get, {}),
    updateSettings: async (patch, actor = null) => mutation(api.settings.update, { ...storedSettingsPatchSchema.parse(patch), actor }),
    claimAutoUpdate: (now, nextAt) => mutation(api.schedule.claim, { now, nextAt }),
    outbox,

    // Nothing to release: the HTTP client holds no connection between calls.
    close: async () => {},
  }
}

/** The backend cannot be used at all: down, unreachable, or refusing the admin key. */
export class ConvexUnavailableError extends Error {
  constructor(readonly url: string, message: string) {
    super(message)
    this.name = 'ConvexUnavailableError'
  }
}

/** Statuses a proxy in front of a restarting backend answers with. */
const GATEWAY_STATUSES = new Set([502, 503, 504])

function describeFetchFailure(err: unknown, timeoutMs: number): string {
  if (err instanceof Error && err.name === 'TimeoutError') return `no answer within ${timeoutMs} ms`
  // undici reports "fetch failed" and puts the reason (ECONNREFUSED, ENOTFOUND…) in `cause`.
  const cause = err instanceof Error && err.cause instanceof Error ? err.cause : err
  return cause instanceof Error ? cause.message : String(cause)
}

export interface ConvexHttpOptions {
  /** The deployment's API URL (port 3210 of a self-hosted backend). */
  url: string
  /** `generate_admin_key.sh` output: lets the web call internal functions. */
  adminKey: string
  /** The app module that exposes the component (`DEFAULT_CONVEX_MODULE` when unset). */
  module?: string
  timeoutMs?: number
  /** What a caller sees when the backend is unavailable (the web turns it into a 503). */
  toError?: (err: ConvexUnavailableError) => unknown
  /** Told once when the backend becomes unavailable and once when it answers again. */
  onUnavailable?: (err: ConvexUnavailableError) => void
  onAvailable?: (url: string) => void
  fetch?: typeof globalThis.fetch
}

/**
 * Calls the component over Convex's HTTP API with the admin key, through the app's internal
 * `<module>:query` / `<module>:mutation` with `{fn, args}`. `ConvexHttpClient` sends
 * `Authorization: Convex <admin key>` once `setAdminAuth` is set, and with that header the
 * backend runs internal functions too (as `npx convex run` and the dashboard do). The method is
 * marked internal in the client's type declarations, hence the narrow cast below.
 */
export function convexHttpCaller(opts: ConvexHttpOptions): ConvexCaller {
  const url = opts.url.replace(/\/+$/, '')
  const module = opts.module ?? DEFAULT_CONVEX_MODULE
  const exposed = {
    query: makeFunctionReference<'query'>(`${module}:query`),
    mutation: makeFunctionReference<'mutation'>(`${module}:mutation`),
  }
  const timeoutMs = opts.timeoutMs ?? 10_000
  const baseFetch = opts.fetch ?? globalThis.fetch
  const unavailable = (message: string) => new ConvexUnavailableError(url, message)

  // The client lets errors from `fetch` through unchanged, so failures are classified here,
  // where the HTTP status is still known.
  const guardedFetch: typeof globalThis.fetch = async (input, init) => {
    let response: Response
    try {
      response = await baseFetch(input, { ...init, signal: AbortSignal.timeout(timeoutMs) })
    }
    catch (err) {
      throw unavailable(`the Convex backend at ${url} is unreachable: ${describeFetchFailure(err, timeoutMs)}`)
    }
    if (GATEWAY_STATUSES.has(response.status)) {
      throw unavailable(`the Convex backend at ${url} is unreachable: it answered HTTP ${response.status}`)
    }
    if (response.status === 401 || response.status === 403) {
      const detail = (await response.text()).slice(0, 300)
      throw unavailable(`the Convex backend at ${url} refused the admin key (OWLAT_CONVEX_ADMIN_KEY): HTTP ${response.status} ${detail}`)
    }
    return response
  }

  const client = new ConvexHttpClient(url, { skipConvexDeploymentUrlCheck: true, logger: false, fetch: guardedFetch })
  ;(client as unknown as { setAdminAuth(token: string): void }).setAdminAuth(opts.adminKey)

  let down = false
  const onUnavailable = opts.onUnavailable ?? ((err: ConvexUnavailableError) => console.error(`[store] ${err.message}`))
  const onAvailable = opts.onAvailable ?? ((u: string) => console.info(`[store] the Convex backend at ${u} answers again`))

  async function call<T>(run: () => Promise<T>): Promise<T> {
    try {
      const result = await run()
      if (down) {
        down = false
        onAvailable(url)
      }
      return result
    }
    catch (err) {
      if (!(err instanceof ConvexUnavailableError)) {
        // The first thing a host that forgot `convex/owlatSystem.ts` sees: say what to add.
        if (err instanceof Error && !('data' in err) && new RegExp(`Could not find .*function for '${module}:`).test(err.message)) {
          throw new Error(`the Convex app at ${url} does not expose the System & Updates component as ${module}:query and ${module}:mutation (add convex/${module}.ts with exposeOwlatSystem, see the README): ${err.message}`, { cause: err })
        }
        // The backend answered (with a refusal or an error): it is reachable.
        if (down) {
          down = false
          onAvailable(url)
        }
        throw err
      }
      // One log line per outage, not one per request.
      if (!down) {
        down = true
        onUnavailable(err)
      }
      throw opts.toError ? opts.toError(err) : err
    }
  }

  return {
    query: (ref, args) => call(() => client.query(exposed.query, { fn: getFunctionName(ref), args })),
    // Mutations skip the client's queue: the web serves requests concurrently and Convex, not
    // this process, orders conflicting writes.
    mutation: (ref, args) => call(() => client.mutation(exposed.mutation, { fn: getFunctionName(ref), args }, { skipQueue: true })),
  }
}
