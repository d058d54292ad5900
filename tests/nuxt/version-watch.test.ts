/**
 * useVersionWatch in a Nuxt runtime: the page reloads only once the web answers the target
 * version of a run it followed, never in a loop, and never for a run that was restored.
 */
import { createError } from 'h3'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { ref, type Ref } from 'vue'
import type { Run } from '../../shared/schemas/api'
import { LANDED_KEY } from '../../app/composables/useVersionWatch'
import { aRun, aStatus, cleanUp, mountWith, serve, type Served } from './fixtures'

let webVersion: string | 'down'
let version: Served
let status: Served
let reload: ReturnType<typeof vi.spyOn>

const watchRun = (run: Ref<Run | null>) => mountWith(() => useVersionWatch(run))

/** Lets several 500 ms poll intervals pass. */
const settle = () => new Promise(resolve => setTimeout(resolve, 1_300))

beforeEach(() => {
  webVersion = '1.2.2'
  version = serve('/api/system/version', () => {
    if (webVersion === 'down') throw createError({ statusCode: 502, statusMessage: 'Bad Gateway' })
    return { version: webVersion, buildId: 'b' }
  })
  status = serve('/api/system/status', () => aStatus({ currentVersion: webVersion === 'down' ? '1.2.2' : webVersion, webVersion: webVersion === 'down' ? null : webVersion }))
  reload = vi.spyOn(window.location, 'reload').mockImplementation(() => {})
  const store = useSystemStore()
  store.reset()
  // The document was loaded on 1.2.2 and follows run-1 (started here).
  store.$patch({ pageVersion: '1.2.2', activeRunId: 'run-1' })
})

afterEach(() => {
  cleanUp()
  reload.mockRestore()
})

describe('useVersionWatch', () => {
  it('reloads once the web answers the target version, not before, and says the server restarts meanwhile', async () => {
    const run = ref<Run | null>(aRun({ status: 'running' }))
    const watch = await watchRun(run)
    await vi.waitFor(() => expect(watch.webVersion.value).toBe('1.2.2'))

    webVersion = 'down'
    await vi.waitFor(() => expect(useSystemStore().serverReachable).toBe(false))

    // Succeeded, but the web still answers nothing, then the old version: keep waiting.
    run.value = aRun({ status: 'succeeded', endedAt: 2_000 })
    await settle()
    webVersion = '1.2.2'
    await vi.waitFor(() => expect(useSystemStore().serverReachable).toBe(true))
    expect(watch.waitingForVersion.value).toBe(true)
    expect(reload).not.toHaveBeenCalled()

    webVersion = '1.3.0'
    await vi.waitFor(() => expect(reload).toHaveBeenCalledTimes(1))
    expect(watch.reloading.value).toBe(true)
    expect(watch.watching.value).toBe(false)
    const asked = version.requests.length
    await settle()
    expect(reload).toHaveBeenCalledTimes(1)
    expect(version.requests.length).toBe(asked)
  })

  it('lands on what a quick run started elsewhere installed, though it never saw the run in flight', async () => {
    const store = useSystemStore()
    store.$patch({ activeRunId: null })
    // Another admin's (or the CLI's) run ended between two status polls: the status says the web runs 1.3.0.
    const elsewhere = ref<Run | null>(aRun({ id: 'run-2', status: 'succeeded', endedAt: 2_000 }))
    const watch = await watchRun(elsewhere)
    await settle()
    // While the status still says 1.2.2 (the run had not ended yet), nothing is polled or reloaded.
    expect(watch.watching.value).toBe(false)
    expect(version.requests).toHaveLength(0)
    webVersion = '1.3.0'
    await store.refreshStatus()
    await vi.waitFor(() => expect(reload).toHaveBeenCalledTimes(1))
    expect(JSON.parse(sessionStorage.getItem(LANDED_KEY)!)).toMatchObject({ runId: 'run-2', toVersion: '1.3.0' })
  })

  it('does not reload a document that already runs the target version (no reload loop)', async () => {
    useSystemStore().$patch({ pageVersion: '1.3.0' })
    webVersion = '1.3.0'
    const watch = await watchRun(ref(aRun({ status: 'succeeded', endedAt: 2_000 })))
    await settle()
    expect(watch.watching.value).toBe(false)
    expect(watch.waitingForVersion.value).toBe(false)
    expect(version.requests).toHaveLength(0)
    expect(reload).not.toHaveBeenCalled()
  })

  it('does nothing on a restore: a rolled-back run reloads nothing and refreshes the status instead', async () => {
    const run = ref<Run | null>(aRun({ status: 'running' }))
    const watch = await watchRun(run)
    await vi.waitFor(() => expect(version.requests.length).toBeGreaterThan(0))
    // Even if something answered the target version meanwhile, the run did not install it.
    webVersion = '1.3.0'
    const statusReads = status.requests.length
    run.value = aRun({ status: 'rolled_back', endedAt: 2_000, reason: 'verify failed: web unhealthy' })
    await vi.waitFor(() => expect(status.requests.length).toBeGreaterThan(statusReads))
    await settle()
    expect(watch.watching.value).toBe(false)
    expect(watch.waitingForVersion.value).toBe(false)
    expect(reload).not.toHaveBeenCalled()
  })

  it('lands on the new version once it passed verify, while the watch window still runs', async () => {
    const steps = (verify: 'running' | 'succeeded', watch: 'pending' | 'running') => [
      { name: 'verify' as const, status: verify, startedAt: 1_500, endedAt: verify === 'succeeded' ? 1_800 : null, log: [], error: null },
      { name: 'watch' as const, status: watch, startedAt: watch === 'running' ? 1_800 : null, endedAt: null, log: [], error: null },
    ]
    const run = ref<Run | null>(aRun({ status: 'running', steps: steps('running', 'pending') }))
    const watch = await watchRun(run)
    // The new web answers while verify still runs: not yet.
    webVersion = '1.3.0'
    await settle()
    expect(reload).not.toHaveBeenCalled()

    run.value = aRun({ status: 'running', steps: steps('succeeded', 'running') })
    await vi.waitFor(() => expect(reload).toHaveBeenCalledTimes(1))
    expect(watch.landing.value).toBe('1.3.0')
    expect(JSON.parse(sessionStorage.getItem(LANDED_KEY)!)).toMatchObject({ runId: 'run-1', toVersion: '1.3.0' })
  })

  it('reloads back onto the restored version when the watch window fails after the page landed on the new one', async () => {
    sessionStorage.removeItem(LANDED_KEY)
    // This document reloaded onto 1.3.0 during the watch window.
    useSystemStore().$patch({ pageVersion: '1.3.0' })
    webVersion = '1.3.0'
    const watching = [
      { name: 'verify' as const, status: 'succeeded' as const, startedAt: 1_500, endedAt: 1_800, log: [], error: null },
      { name: 'watch' as const, status: 'running' as const, startedAt: 1_800, endedAt: null, log: [], error: null },
    ]
    const run = ref<Run | null>(aRun({ status: 'running', steps: watching }))
    const watch = await watchRun(run)
    await settle()
    expect(reload).not.toHaveBeenCalled()

    // The window caught a failure: restoring (nothing settled), then restored.
    const failed = { ...watching[1]!, status: 'failed' as const, endedAt: 3_000, error: 'sample 4 of the watch window (3 s of 60 s) failed: web: /api/healthz answered 503' }
    run.value = aRun({ status: 'running', steps: [watching[0]!, failed, { name: 'restore', status: 'running', startedAt: 3_000, endedAt: null, log: [], error: null }] })
    webVersion = 'down'
    await settle()
    expect(reload).not.toHaveBeenCalled()
    expect(watch.landing.value).toBeNull()

    run.value = aRun({ status: 'rolled_back', endedAt: 4_000, reason: `watch failed: ${failed.error}; restored 1.2.2`, steps: [watching[0]!, failed] })
    await settle()
    expect(watch.waitingForVersion.value).toBe(true)
    expect(reload).not.toHaveBeenCalled()
    webVersion = '1.2.2'
    await vi.waitFor(() => expect(reload).toHaveBeenCalledTimes(1))
    // Not a landing on a new version: no "what's new".
    expect(sessionStorage.getItem(LANDED_KEY)).toBeNull()
  })

  it('ignores a run it never followed: a finished run from the history is not a reason to reload', async () => {
    useSystemStore().$patch({ activeRunId: null })
    webVersion = '1.3.0'
    const watch = await watchRun(ref(aRun({ id: 'old-run', status: 'succeeded', endedAt: 2_000 })))
    await settle()
    expect(watch.watching.value).toBe(false)
    expect(reload).not.toHaveBeenCalled()
  })
})
