/**
 * What the component and composable tests serve and count: runs, releases and statuses shaped by
 * the shared schemas, and endpoints registered in the Nuxt test environment (`registerEndpoint`),
 * so `$fetch` in the code under test goes through a real h3 handler.
 */
import { registerEndpoint } from '@nuxt/test-utils/runtime'
import { readBody, type H3Event } from 'h3'
import { releaseSchema, type Release } from '../../shared/schemas/release'
import { runSchema, statusSchema, type Run, type SystemStatus } from '../../shared/schemas/api'

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

export interface Served {
  /** Requests the endpoint answered, with their bodies (JSON) in order. */
  readonly requests: unknown[]
  remove: () => void
}

/** Serves `answer()` at `url` (any method unless given) and records what was asked. */
export function serve(url: string, answer: (event: H3Event) => unknown, method?: 'GET' | 'POST' | 'PUT'): Served {
  const requests: unknown[] = []
  const remove = registerEndpoint(url, {
    ...(method ? { method } : {}),
    handler: async (event: H3Event) => {
      requests.push(event.method === 'GET' ? null : await readBody(event).catch(() => null))
      return answer(event)
    },
  })
  return { requests, remove }
}
