/**
 * useVersionWatch in a Nuxt runtime: the page reloads only once the web answers the target
 * version of a run it followed, never in a loop, and never for a run that was restored.
 */
import { createError } from 'h3'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { ref, type Ref } from 'vue'
import type { Run } from '../../shared/schemas/api'
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
  status = serve('/api/system/status', () => aStatus({ currentVersion: webVersion === 'down' ? '1.2.2' : webVersion }))
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

  it('ignores a run it never followed: a finished run from the history is not a reason to reload', async () => {
    useSystemStore().$patch({ activeRunId: null })
    webVersion = '1.3.0'
    const watch = await watchRun(ref(aRun({ id: 'old-run', status: 'succeeded', endedAt: 2_000 })))
    await settle()
    expect(watch.watching.value).toBe(false)
    expect(reload).not.toHaveBeenCalled()
  })
})
