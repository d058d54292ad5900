// @vitest-environment edge-runtime
/** convex/releases.ts through convex-test. */
import { getDocumentSize } from 'convex/values'
import { describe, expect, it } from 'vitest'
import type { Release } from '../../shared/schemas/release'
import { newBackend, system } from './harness'

const release = (version: string, notes = 'n'): Release => ({
  version, channel: 'stable', publishedAt: '2026-11-01T10:00:00Z', severity: 'normal', notes, notesHtml: `<p>${notes}</p>`,
  migratesData: false, rollbackFloor: null, verified: true, verifyError: null,
})

describe('release cache', () => {
  it('keeps the last list with its check time, and an error next to the list it failed to replace', async () => {
    const t = newBackend()
    expect(await t.query(system.releases.getCache, {})).toEqual({ releases: [], checkedAt: null, error: null })
    await t.mutation(system.releases.saveCache, { releases: [release('1.3.0'), release('1.2.3')], checkedAt: 100, error: null })
    await t.mutation(system.releases.saveCache, { releases: [release('1.3.0'), release('1.2.3')], checkedAt: 200, error: 'HTTP 502 from the source' })
    expect(await t.query(system.releases.getCache, {})).toEqual({
      releases: [release('1.3.0'), release('1.2.3')], checkedAt: 200, error: 'HTTP 502 from the source',
    })
    // One check document however often the source is asked.
    expect(await t.inComponent(ctx => ctx.db.query('releaseChecks').withIndex('by_scope').collect())).toHaveLength(1)
  })

  it('stores each release in its own document, so long notes never add up in one', async () => {
    const t = newBackend()
    const long = 'x'.repeat(90_000)
    const releases = Array.from({ length: 12 }, (_, i) => release(`1.${i}.0`, long))
    await t.mutation(system.releases.saveCache, { releases, checkedAt: 1, error: null })
    const docs = await t.inComponent(ctx => ctx.db.query('releases').withIndex('by_position').collect())
    expect(docs).toHaveLength(12)
    for (const doc of docs) expect(getDocumentSize(doc)).toBeLessThan(256 * 1024)
    expect((await t.query(system.releases.getCache, {})).releases.map(r => r.version)).toEqual(releases.map(r => r.version))
    await t.mutation(system.releases.saveCache, { releases: [release('2.0.0')], checkedAt: 2, error: null })
    expect(await t.inComponent(ctx => ctx.db.query('releases').withIndex('by_position').collect())).toHaveLength(1)
  })

  it('gives a due check slot to one of many concurrent claims, and keeps the cache and the state apart', async () => {
    const t = newBackend()
    const claims = await Promise.all(Array.from({ length: 6 }, () => t.mutation(system.releases.claimCheck, { now: 1_000, nextAt: 7_000 })))
    expect(claims.filter(Boolean)).toHaveLength(1)
    expect(await t.mutation(system.releases.claimCheck, { now: 6_999, nextAt: 9_000 })).toBe(false)
    expect(await t.mutation(system.releases.claimCheck, { now: 7_000, nextAt: 9_000 })).toBe(true)
    await t.mutation(system.releases.saveCheckState, { etag: '"v1"', fingerprints: [{ version: '1.4.0-beta.1', fingerprint: 'f' }] })
    await t.mutation(system.releases.saveCache, { releases: [], checkedAt: 5, error: 'rate limited' })
    expect(await t.query(system.releases.getCheckState, {})).toEqual({
      nextCheckAt: 9_000, retryAt: null, etag: '"v1"', fingerprints: [{ version: '1.4.0-beta.1', fingerprint: 'f' }],
    })
    expect(await t.query(system.releases.getCache, {})).toEqual({ releases: [], checkedAt: 5, error: 'rate limited' })
    expect(await t.inComponent(ctx => ctx.db.query('releaseChecks').withIndex('by_scope').collect())).toHaveLength(1)
  })
})
