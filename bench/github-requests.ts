/**
 * How many requests an instance makes to GitHub per day at default settings with a warm cache
 * (goal: at most 4, conditional requests included). Two web replicas share one SQLite store and
 * run the scheduled task at Nitro's 10-minute tick on a simulated clock for a week, while admins
 * read the status every 5 minutes; the loopback fake GitHub (tests/server/fake-github.ts) counts
 * what reaches it.
 *
 *   node --import tsx bench/github-requests.ts [days]
 */
import { generateKeyPairSync } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createGitHubClient } from '../shared/releases/github'
import { createGitHubReleaseSource } from '../shared/releases/source'
import { readReleases, runScheduledCheck } from '../server/utils/releases'
import { openSqliteStore } from '../server/utils/store/sqlite'
import { loadConfig } from '../shared/config'
import { signedAssets, startFakeGitHub } from '../tests/server/fake-github'

const days = Number(process.argv[2] ?? 7)
if (!Number.isInteger(days) || days < 1) {
  process.stderr.write('usage: node --import tsx bench/github-requests.ts [days ≥ 1]\n')
  process.exit(2)
}

const MINUTE = 60_000
const DAY = 24 * 60 * MINUTE
const TICK = 10 * MINUTE // nuxt.config.ts: scheduledTasks '*/10 * * * *'
const READ_EVERY = 5 * MINUTE

const { releaseCheck } = loadConfig({})
const keys = generateKeyPairSync('ed25519')
const privateKey = keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
const publicKey = keys.publicKey.export({ type: 'spki', format: 'pem' }).toString()

const gh = await startFakeGitHub()
const dir = mkdtempSync(join(tmpdir(), 'owlat-bench-gh-'))
const replicas = [0, 1].map(() => ({
  store: openSqliteStore(join(dir, 'web.sqlite')),
  source: createGitHubReleaseSource({ client: createGitHubClient({ apiUrl: gh.apiUrl, repo: gh.repo }), publicKey: () => publicKey }),
}))

try {
  for (const version of ['1.2.2', '1.2.3', '1.3.0']) gh.add({ tag: `v${version}`, assets: signedAssets({ version, privateKey }) })

  // Warm the cache: the first check lists and downloads everything once.
  const t0 = Date.UTC(2026, 0, 1)
  await runScheduledCheck(replicas[0]!.store, replicas[0]!.source, releaseCheck, t0)
  const warmUp = gh.requests.length
  const times: number[] = []
  let seen = gh.requests.length

  for (let t = t0 + 1; t <= t0 + days * DAY; t += MINUTE) {
    const since = t - t0
    for (const r of replicas) {
      if (since % READ_EVERY === 1) await readReleases(r.store, r.source, releaseCheck, t)
      if (since % TICK === 1) await runScheduledCheck(r.store, r.source, releaseCheck, t)
    }
    for (; seen < gh.requests.length; seen++) times.push(t)
  }

  const made = gh.requests.slice(warmUp)
  const maxWindow = Math.max(0, ...times.map(start => times.filter(x => x >= start && x < start + DAY).length))
  console.log(`default interval ${releaseCheck.intervalMs / 3_600_000} h + up to ${releaseCheck.jitterMs / MINUTE} min jitter, ${replicas.length} replicas, ${days} simulated days, cache warm (warm-up: ${warmUp} requests)`)
  console.log(`GitHub requests: ${made.length} in ${days} days = ${(made.length / days).toFixed(2)} per day; most in any 24 h: ${maxWindow}`)
  console.log(`  of which conditional answered 304: ${made.filter(r => r.status === 304).length}; asset downloads: ${made.filter(r => r.origin === 'storage').length}`)
  console.log(`goal ≤ 4 per day: ${maxWindow <= 4 ? 'met' : 'NOT met'}`)
}
finally {
  await Promise.all(replicas.map(r => r.store.close()))
  await gh.close()
  rmSync(dir, { recursive: true, force: true })
}
