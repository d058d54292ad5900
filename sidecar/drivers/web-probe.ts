/**
 * Asking the web whether it is up: `GET /api/healthz` (no auth) and the signed
 * `GET /api/system/version`, both pinned contracts. Shared by every driver's `verify`.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { signRequest } from '../../shared/request-signing'
import { versionInfoSchema } from '../../shared/schemas/api'

const REQUEST_TIMEOUT_MS = 2000
/** Between verify probes: each is a healthz and a version read, cheap next to what it waits for. */
export const VERIFY_INTERVAL_MS = 100
const VERSION_PATH = '/api/system/version'
const HEALTHZ_PATH = '/api/healthz'

export interface WebTarget {
  baseUrl: string
  secret: string
}

export type ProbeResult = { ok: true } | { ok: false, detail: string }

function describeFetchError(path: string, err: unknown): string {
  const cause = (err as { cause?: { code?: string } }).cause
  if (cause?.code === 'ECONNREFUSED') return `${path}: connection refused`
  if ((err as Error).name === 'TimeoutError') return `${path}: no answer within ${REQUEST_TIMEOUT_MS / 1000} s`
  return `${path}: ${cause?.code ?? (err as Error).message}`
}

async function get(target: WebTarget, path: string, headers: Record<string, string>, signal?: AbortSignal): Promise<Response> {
  const timeout = AbortSignal.timeout(REQUEST_TIMEOUT_MS)
  return fetch(`${target.baseUrl}${path}`, { headers, signal: signal ? AbortSignal.any([signal, timeout]) : timeout })
}

/** `healthy` on 200, `unhealthy` on any other answer, `unreachable` when nothing answers. */
export async function webHealth(target: WebTarget): Promise<'healthy' | 'unhealthy' | 'unreachable'> {
  try {
    const res = await get(target, HEALTHZ_PATH, {})
    await res.body?.cancel()
    return res.status === 200 ? 'healthy' : 'unhealthy'
  }
  catch {
    return 'unreachable'
  }
}

/** One round: healthz must answer 200, then the signed version endpoint must answer `version`. */
export async function probeWeb(target: WebTarget, version: string, signal?: AbortSignal): Promise<ProbeResult> {
  try {
    const health = await get(target, HEALTHZ_PATH, {}, signal)
    await health.body?.cancel()
    if (health.status !== 200) return { ok: false, detail: `${HEALTHZ_PATH} answered ${health.status}` }
  }
  catch (err) {
    if (signal?.aborted) throw err
    return { ok: false, detail: describeFetchError(HEALTHZ_PATH, err) }
  }
  try {
    // Without a nonce: a restore or a rollback may bring back a web older than the nonce, and
    // these probes go one at a time, so strictly increasing timestamps keep them apart.
    const headers = signRequest({ secret: target.secret, method: 'GET', path: VERSION_PATH, nonce: false })
    const res = await get(target, VERSION_PATH, headers, signal)
    if (res.status !== 200) {
      await res.body?.cancel()
      return { ok: false, detail: `${VERSION_PATH} answered ${res.status}` }
    }
    const info = versionInfoSchema.safeParse(await res.json().catch(() => null))
    if (!info.success) return { ok: false, detail: `${VERSION_PATH} answered something that is not {version, buildId}` }
    if (info.data.version !== version) return { ok: false, detail: `${VERSION_PATH} answered ${info.data.version}, expected ${version}` }
    return { ok: true }
  }
  catch (err) {
    if (signal?.aborted) throw err
    return { ok: false, detail: describeFetchError(VERSION_PATH, err) }
  }
}

/**
 * Polls every 100 ms until the web is healthy at `version` or `timeoutMs` passed; throws with the
 * last thing seen so the job's reason says why.
 */
export async function waitForWeb(target: WebTarget, version: string, timeoutMs: number, signal: AbortSignal): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let last: string
  for (;;) {
    signal.throwIfAborted()
    const result = await probeWeb(target, version, signal)
    if (result.ok) return
    last = result.detail
    if (Date.now() + VERIFY_INTERVAL_MS > deadline) break
    await sleep(VERIFY_INTERVAL_MS, undefined, { signal })
  }
  throw new Error(`web did not become healthy within ${formatSeconds(timeoutMs)} (last: ${last})`)
}

export function formatSeconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(1))} s`
}
