/**
 * The page's pollers (VueUse useTimeoutPoll through useVisiblePoll): the run poll follows a run
 * until it ends, the status poll stops while the tab is hidden and catches up when it is shown.
 */
import { createError } from 'h3'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { ref } from 'vue'
import { aRun, aStatus, cleanUp, mountWith, serve } from './fixtures'

const wait = (ms: number) => new Promise(resolve => setTimeout(resolve, ms))

beforeEach(() => {
  useSystemStore().reset()
})

afterEach(cleanUp)

describe('useActiveRun', () => {
  it('reads the run every 500 ms while it is in flight, through a restarting server, and stops when it ended', async () => {
    let answer: 'running' | 'down' | 'succeeded' = 'running'
    const run = serve('/api/system/updates/run-1', () => {
      if (answer === 'down') throw createError({ statusCode: 503 })
      return aRun({ status: answer, endedAt: answer === 'succeeded' ? 2_000 : null })
    })
    const followed = await mountWith(() => useActiveRun('run-1'))
    await vi.waitFor(() => expect(followed.run.value?.status).toBe('running'))
    await vi.waitFor(() => expect(run.requests.length).toBeGreaterThanOrEqual(2))

    answer = 'down'
    await vi.waitFor(() => expect(useSystemStore().serverReachable).toBe(false))
    expect(followed.error.value).toBeNull()

    answer = 'succeeded'
    await vi.waitFor(() => expect(followed.run.value?.status).toBe('succeeded'))
    expect(useSystemStore().serverReachable).toBe(true)
    const reads = run.requests.length
    await wait(1_200)
    expect(run.requests.length).toBe(reads)
  })

  it('reads every 150 ms while the run replaces the web, and every 500 ms before', async () => {
    const step = (name: 'pull' | 'recreate') => ({ name, status: 'running' as const, startedAt: 1_000, endedAt: null, log: [], error: null })
    let running: 'pull' | 'recreate' = 'pull'
    const run = serve('/api/system/updates/run-1', () => aRun({ status: 'running', steps: [step(running)] }))
    const followed = await mountWith(() => useActiveRun('run-1'))
    await vi.waitFor(() => expect(followed.run.value?.steps[0]?.name).toBe('pull'))
    let reads = run.requests.length
    await wait(1_000)
    // 1 s at 500 ms: 2 reads (3 on a late timer), never the fast pace's 6.
    expect(run.requests.length - reads).toBeLessThanOrEqual(3)

    running = 'recreate'
    await vi.waitFor(() => expect(followed.run.value?.steps[0]?.name).toBe('recreate'))
    reads = run.requests.length
    await wait(1_000)
    expect(run.requests.length - reads).toBeGreaterThanOrEqual(4)
  })

  it('stops at an answer that will not change (an unknown run) and says why', async () => {
    const run = serve('/api/system/updates/gone', () => {
      throw createError({ statusCode: 404, statusMessage: 'no run gone' })
    })
    const followed = await mountWith(() => useActiveRun('gone'))
    await vi.waitFor(() => expect(followed.error.value).toBe('no run gone'))
    await wait(1_200)
    expect(run.requests).toHaveLength(1)
  })

  it('follows another run as soon as the id changes', async () => {
    serve('/api/system/updates/run-1', () => aRun({ status: 'running' }))
    serve('/api/system/updates/run-2', () => aRun({ id: 'run-2', status: 'failed', endedAt: 3, reason: 'pull failed' }))
    const id = ref('run-1')
    const followed = await mountWith(() => useActiveRun(id))
    await vi.waitFor(() => expect(followed.run.value?.id).toBe('run-1'))
    id.value = 'run-2'
    await vi.waitFor(() => expect(followed.run.value).toMatchObject({ id: 'run-2', status: 'failed', reason: 'pull failed' }))
  })
})

describe('useStatusPolling', () => {
  let visibility: DocumentVisibilityState = 'visible'

  beforeEach(() => {
    visibility = 'visible'
    Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => visibility })
  })

  afterEach(() => {
    Reflect.deleteProperty(document, 'visibilityState')
  })

  function setVisibility(state: DocumentVisibilityState): void {
    visibility = state
    document.dispatchEvent(new Event('visibilitychange'))
  }

  it('asks for the status while the tab is visible, not while it is hidden, and at once when it is shown', async () => {
    const status = serve('/api/system/status', () => aStatus())
    await mountWith(() => useStatusPolling())
    await vi.waitFor(() => expect(status.requests.length).toBeGreaterThanOrEqual(2), { timeout: 4_000 })

    setVisibility('hidden')
    await wait(300)
    const whileHidden = status.requests.length
    await wait(2_600)
    expect(status.requests.length).toBe(whileHidden)

    setVisibility('visible')
    await vi.waitFor(() => expect(status.requests.length).toBe(whileHidden + 1), { timeout: 1_000 })
    expect(useSystemStore().status?.currentVersion).toBe('1.2.2')
  })
})

describe('useSystemStore', () => {
  it('re-reads health, history and pending releases (their useFetch keys) when a run starts or ends, and nothing for an unchanged status', async () => {
    let active = false
    let channel: 'stable' | 'beta' = 'stable'
    serve('/api/system/status', () => aStatus({ activeRun: active ? aRun() : null, channel }))
    const reads = {
      health: serve('/api/system/health', () => ({ reachable: true, driver: 'local', version: '1.2.2', services: [], backups: null, rehearsals: null, error: null })),
      history: serve('/api/system/history', () => ({ runs: [] })),
      pending: serve('/api/system/releases/pending', () => ({ currentVersion: '1.2.2', target: '1.3.0', releases: [], migratesData: false })),
    }
    const store = useSystemStore()
    await mountWith(() => [useSystemHealth(), useSystemHistory(), usePendingReleases()])
    await vi.waitFor(() => expect(Object.values(reads).map(r => r.requests.length)).toEqual([1, 1, 1]))
    await store.refreshStatus()
    await wait(300)
    // The same status again: nothing is stale.
    await store.refreshStatus()
    await wait(300)
    expect(Object.values(reads).map(r => r.requests.length)).toEqual([1, 1, 1])

    active = true
    await store.refreshStatus()
    await vi.waitFor(() => expect(Object.values(reads).map(r => r.requests.length)).toEqual([2, 2, 2]))
    active = false
    await store.refreshStatus()
    await vi.waitFor(() => expect(Object.values(reads).map(r => r.requests.length)).toEqual([3, 3, 3]))

    // Another channel offers other releases: only the pending read depends on it.
    channel = 'beta'
    await store.refreshStatus()
    await vi.waitFor(() => expect(Object.values(reads).map(r => r.requests.length)).toEqual([3, 3, 4]))
  })
})
