/**
 * What the component and composable tests serve and count: runs, releases and statuses shaped by
 * the shared schemas, and endpoints registered in the Nuxt test environment (`registerEndpoint`),
 * so `$fetch` in the code under test goes through a real h3 handler.
 */
import { mountSuspended, registerEndpoint } from '@nuxt/test-utils/runtime'
import { getQuery, readBody, type H3Event } from 'h3'
import { defineComponent, h } from 'vue'
import { releaseSchema, type Release } from '../../shared/schemas/release'
import { planSchema, runSchema, statusSchema, type Plan, type Run, type SystemStatus } from '../../shared/schemas/api'

export function aRun(overrides: Partial<Run> = {}): Run {
  return runSchema.parse({
    id: 'run-1',
    jobId: 'job-1',
    kind: 'update',
    fromVersion: '1.2.2',
    toVersion: '1.3.0',
    status: 'running',
    reason: null,
    requestedBy: { email: 'admin@example.test', via: 'web' },
    startedAt: 1_000,
    endedAt: null,
    steps: [],
    ...overrides,
  })
}

export function aRelease(version: string, overrides: Partial<Release> = {}): Release {
  return releaseSchema.parse({
    version,
    channel: 'stable',
    publishedAt: '2026-11-01T10:00:00Z',
    severity: 'normal',
    notes: `notes of ${version}`,
    notesHtml: `<p>notes of ${version}</p>`,
    migratesData: false,
    rollbackFloor: null,
    verified: true,
    verifyError: null,
    ...overrides,
  })
}

export function aStatus(overrides: Partial<SystemStatus> = {}): SystemStatus {
  const latest = overrides.latest === undefined ? aRelease('1.3.0') : overrides.latest
  return statusSchema.parse({
    currentVersion: '1.2.2',
    buildId: 'build-1',
    channel: 'stable',
    latest,
    updateAvailable: latest !== null,
    severity: latest?.severity ?? null,
    dismissed: false,
    activeRun: null,
    unacknowledgedRun: null,
    lastCheck: { checkedAt: 1, error: null, nextCheckAt: null },
    ...overrides,
  })
}

/** A plan whose every check passes, for the target the dialog asks about (`GET /api/system/plan`). */
export function aPlan(overrides: Partial<Plan> = {}): Plan {
  return planSchema.parse({
    kind: 'update',
    fromVersion: '1.2.2',
    targetVersion: '1.3.0',
    path: [overrides.targetVersion ?? '1.3.0'],
    checks: [{ id: 'updater', status: 'ok', message: 'the updater answers', fix: null, ignorable: true }],
    images: [],
    composeDiff: '',
    migratesData: false,
    rollbackFloor: null,
    migrations: [],
    ...overrides,
  })
}

/** Serves `GET /api/system/plan` with a passing plan for whatever target and kind the dialog asks. */
export function servePassingPlans(): Served {
  return serve('/api/system/plan', (event) => {
    const { kind, targetVersion } = getQuery(event) as { kind: 'update' | 'rollback', targetVersion: string }
    return aPlan({ kind, targetVersion, path: [targetVersion] })
  }, 'GET')
}

export interface Served {
  /** Requests the endpoint answered, with their bodies (JSON) in order. */
  readonly requests: unknown[]
}

/** What a test set up and `cleanUp` takes down: endpoints and mounted components. */
const undo: Array<() => void> = []

/** Unregisters every endpoint and unmounts every component the test made (call in `afterEach`). */
export function cleanUp(): void {
  for (const step of undo.splice(0).reverse()) step()
}

/** Mounts `component` in the Nuxt test app; `cleanUp` unmounts it. */
export async function mount<T>(component: T, options?: Parameters<typeof mountSuspended<T>>[1]) {
  const wrapper = await mountSuspended(component, options)
  undo.push(() => wrapper.unmount())
  return wrapper
}

/** Runs `setup` (composables) inside a mounted component and returns what it returned. */
export async function mountWith<T>(setup: () => T): Promise<T> {
  let result!: T
  await mount(defineComponent({
    setup() {
      result = setup()
      return () => h('div')
    },
  }))
  return result
}

/** Serves `answer()` at `url` (any method unless given) and records what was asked; `cleanUp` removes it. */
export function serve(url: string, answer: (event: H3Event) => unknown, method?: 'GET' | 'POST' | 'PUT'): Served {
  const requests: unknown[] = []
  const remove = registerEndpoint(url, {
    ...(method ? { method } : {}),
    handler: async (event: H3Event) => {
      requests.push(event.method === 'GET' ? null : await readBody(event).catch(() => null))
      return answer(event)
    },
  })
  undo.push(remove)
  return { requests }
}
