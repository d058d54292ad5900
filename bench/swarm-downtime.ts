/**
 * Figure: what a client of the web sees during an update, on the `swarm` driver (two web replicas,
 * start-first) next to the `compose` driver, for the same update of the same stack file
 * (tests/docker/swarm.ts: web, a stand-in load balancer publishing a port, a store, the updater's
 * service; compose runs one web, as it ignores `deploy.replicas`). A client asks the web's version
 * through the published port every POLL_MS from the job's start to its end; each answer is a
 * success (200 and a version) or a failure (anything else, or no answer within 2 s).
 * Printed per driver: requests, failed requests, the longest gap between two successful answers,
 * and the versions in the order they answered.
 *
 *   flock /tmp/owlat-docker.lock node --import tsx bench/swarm-downtime.ts [runs]
 *
 * Needs the engine, the registry and the swarm of scripts/setup-docker.sh.
 */
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import type Docker from 'dockerode'
import { execa } from 'execa'
import { buildVersion, storeImage } from '../tests/docker/images'
import { downStack, requireDocker } from '../tests/docker/stack'
import { deploySwarmStack, makeSwarmStack, removeSwarmStack, requireSwarm, startSwarmSidecar, type SwarmTestStack } from '../tests/docker/swarm'
import { jobRequest } from '../tests/sidecar/helpers'
import { freePort } from '../tests/setup/ports'

const FROM = '1.0.0'
const TO = '1.1.0'
const POLL_MS = 20

interface Sample { at: number, ok: boolean, version: string | null }

interface Figures { requests: number, failed: number, longestGapMs: number, versions: string[], mixedMs: number, jobMs: number }

/** Polls `url` until `done` resolves; one request at a time, every POLL_MS. */
async function poll(url: string, done: Promise<unknown>): Promise<Sample[]> {
  const samples: Sample[] = []
  let finished = false
  void done.finally(() => {
    finished = true
  })
  while (!finished) {
    const at = Date.now()
    const sample = await fetch(url, { signal: AbortSignal.timeout(2000) })
      .then(async r => ({ at, ok: r.ok, version: r.ok ? (await r.json() as { version?: string }).version ?? null : null }), () => ({ at, ok: false, version: null }))
    samples.push({ ...sample, ok: sample.ok && sample.version !== null })
    await sleep(Math.max(0, POLL_MS - (Date.now() - at)))
  }
  return samples
}

function figures(samples: Sample[], jobMs: number): Figures {
  let longestGapMs = 0
  let lastOk: number | null = samples[0]?.at ?? null
  const versions: string[] = []
  for (const s of samples) {
    if (!s.ok) continue
    if (lastOk !== null) longestGapMs = Math.max(longestGapMs, s.at - lastOk)
    lastOk = s.at
    if (versions.at(-1) !== s.version) versions.push(s.version!)
  }
  // From the first answer of the new version to the last of the old one: both answered meanwhile.
  const firstNew = samples.find(s => s.ok && s.version === TO)?.at ?? null
  const lastOld = samples.findLast(s => s.ok && s.version === FROM)?.at ?? null
  const mixedMs = firstNew !== null && lastOld !== null ? Math.max(0, lastOld - firstNew) : 0
  return { requests: samples.length, failed: samples.filter(s => !s.ok).length, longestGapMs, versions, mixedMs, jobMs }
}

/** One update FROM → TO with a sidecar in this process, polled through the stack's published port. */
async function measure(s: SwarmTestStack): Promise<Figures> {
  const { client, stop } = await startSwarmSidecar(s)
  try {
    const started = Date.now()
    const { jobId } = await client.createJob(jobRequest(s.dataDir, TO, {}, s.release(TO, s.compose(TO))))
    const job = client.waitForJob(jobId, undefined, 300_000)
    const samples = await poll(`${s.webUrl}/api/system/version`, job)
    const ended = await job
    if (ended.status !== 'succeeded') throw new Error(`the update ended ${ended.status}: ${ended.reason}`)
    return figures(samples, Date.now() - started)
  }
  finally {
    await stop()
  }
}

async function swarmRun(docker: Docker): Promise<Figures> {
  const s = await makeSwarmStack(FROM, await freePort())
  try {
    await deploySwarmStack(docker, s)
    return await measure(s)
  }
  finally {
    await removeSwarmStack(docker, s)
  }
}

/** The same stack file as a compose project (its own bridge network; the load balancer's port published). */
async function composeRun(docker: Docker): Promise<Figures> {
  const s = await makeSwarmStack(FROM, await freePort(), { OWLAT_DRIVER: 'compose', OWLAT_HELPER_IMAGE: storeImage(FROM) })
  const project = s.dir.slice(s.dir.lastIndexOf('/') + 1).toLowerCase()
  try {
    await execa('docker-compose', ['-p', project, '--project-directory', s.dir, '-f', join(s.dir, 'docker-compose.yml'), 'up', '-d'])
    const deadline = Date.now() + 60_000
    while (!await fetch(`${s.webUrl}/api/system/version`, { signal: AbortSignal.timeout(2000) }).then(r => r.ok, () => false)) {
      if (Date.now() > deadline) throw new Error('the compose stack did not answer within 60 s')
      await sleep(200)
    }
    return await measure(s)
  }
  finally {
    await downStack({ dir: s.dir, project, dataDir: s.dataDir, env: s.env, release: s.release })
    await removeSwarmStack(docker, s)
  }
}

function print(driver: string, runs: Figures[]): void {
  for (const f of runs) {
    const answers = f.versions.length <= 3 ? f.versions.join(' → ') : `${f.versions.length - 1} switches between ${FROM} and ${TO}`
    console.log(`${driver.padEnd(7)} ${String(f.requests).padStart(5)} requests, ${String(f.failed).padStart(4)} failed, longest gap ${String(f.longestGapMs).padStart(5)} ms, answers ${answers}, both versions answering for ${f.mixedMs} ms (update ${(f.jobMs / 1000).toFixed(1)} s)`)
  }
}

if (import.meta.filename === process.argv[1]) {
  const docker = await requireDocker()
  await requireSwarm(docker)
  for (const version of [FROM, TO]) await buildVersion(version)
  const n = Number(process.argv[2] ?? 3)
  const swarm: Figures[] = []
  const compose: Figures[] = []
  for (let i = 0; i < n; i++) {
    swarm.push(await swarmRun(docker))
    compose.push(await composeRun(docker))
  }
  console.log(`A client polling the web's version every ${POLL_MS} ms through the stack's published port, during an update ${FROM} → ${TO}:`)
  print('swarm', swarm)
  print('compose', compose)
}
