/**
 * A full disk in the middle of a job (a tmpfs mounted on the updater's data folder, filled while
 * `verify` waits): the job must still end safely. The restore runs though the journal refuses
 * every write, what it could not record is held in memory, and once space is back the outcome
 * is recorded and the next job runs, without a restart. Mounting needs root; the suite runs as
 * root (CI, the dev container), and says so when it cannot.
 */
import { execFileSync } from 'node:child_process'
import { closeSync, mkdirSync, openSync, rmSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { jobAcceptedSchema } from '../../shared/schemas/job'
import { startSidecar, type SidecarHandle } from '../../sidecar/index'
import { freePort } from '../setup/ports'
import { eventually, FAKE_WEB, instanceSecret, jobRequest, makeDataDir, SidecarClient, testConfig, webVersion } from './helpers'

const UPDATER_PORT = await freePort()
const IS_ROOT = process.getuid?.() === 0

/** Writes until the file system says ENOSPC, in ever smaller pieces, so not one page is left. */
function fillUp(dir: string): string {
  const path = join(dir, 'filler')
  const fd = openSync(path, 'w')
  try {
    for (const size of [1 << 20, 1 << 16, 4096, 512, 1]) {
      const chunk = Buffer.alloc(size, 0x61)
      try {
        for (;;) writeSync(fd, chunk)
      }
      catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err
      }
    }
  }
  finally {
    closeSync(fd)
  }
  return path
}

describe.skipIf(!IS_ROOT)('a full disk in the middle of a job', () => {
  let dataDir: string
  let mount: string
  let secret: string
  let sidecar: SidecarHandle | undefined
  let client: SidecarClient
  let mounted = false
  const logs: string[] = []

  beforeAll(async () => {
    dataDir = makeDataDir()
    secret = instanceSecret(dataDir)
    // The updater's own folder (journal, kept releases, web pid) on a small disk of its own.
    mount = join(dataDir, 'updater')
    mkdirSync(mount, { recursive: true })
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m,mode=0700', 'tmpfs', mount])
    mounted = true
    sidecar = await startSidecar(testConfig(dataDir, UPDATER_PORT), { webEntry: FAKE_WEB, log: line => logs.push(line), journalRetryMs: 200 })
    client = new SidecarClient(sidecar.url, secret)
    await eventually(async () => (await webVersion(secret)) === '1.2.2', 'the web at 1.2.2')
  })

  afterAll(async () => {
    await sidecar?.close()
    if (mounted) execFileSync('umount', [mount])
  })

  it('restores the previous version, holds the outcome until the journal takes it, then records it and runs the next job', async () => {
    // 1.4.0-beta.1's web never becomes healthy: verify waits its full timeout, then the restore follows.
    const answer = await client.request('POST', '/v1/jobs', jobRequest(dataDir, '1.4.0-beta.1'))
    expect(answer.status).toBe(202)
    const { jobId } = jobAcceptedSchema.parse(answer.body)
    await client.waitForJob(jobId, job => job.steps.find(s => s.name === 'verify')?.status === 'running')
    const filler = fillUp(mount)

    // The restore ran although nothing could be recorded: the web is back at 1.2.2.
    await eventually(async () => logs.some(line => line.includes('the journal refused a write')), 'a refused journal write', 20_000)
    await eventually(async () => logs.some(line => line.includes(`job ${jobId} (update 1.2.2 → 1.4.0-beta.1): rolled_back`)), 'the job to end', 30_000)
    expect(await webVersion(secret)).toBe('1.2.2')
    expect(logs.find(line => line.includes(`job ${jobId} (update`) && line.includes('rolled_back'))).toMatch(/held in memory until the journal takes writes again/)

    // Nothing more reached the disk, and nothing new starts before the outcome is recorded.
    expect((await client.getJob(jobId)).status).toBe('running')
    const meanwhile = await client.request('POST', '/v1/jobs', jobRequest(dataDir, '1.3.0'))
    expect([409, 503]).toContain(meanwhile.status)

    // Space comes back: the held writes land by themselves, in order.
    rmSync(filler)
    const job = await client.waitForJob(jobId)
    expect(job.status).toBe('rolled_back')
    expect(job.reason).toMatch(/^verify failed: .*; restored 1\.2\.2$/)
    expect(job.steps.map(s => [s.name, s.status])).toEqual(expect.arrayContaining([['verify', 'failed'], ['restore', 'succeeded'], ['verify-restore', 'succeeded']]))
    expect(job.steps.find(s => s.name === 'restore')!.log.join('\n')).toMatch(/restored .*docker-compose\.yml/)
    expect(logs).toContain('the journal takes writes again: every held write is recorded')
    expect(logs.join('\n')).not.toMatch(/internal error/)

    // Without a restart, the next job is accepted and runs.
    const next = await client.request('POST', '/v1/jobs', jobRequest(dataDir, '1.3.0'))
    expect(next.status).toBe(202)
    const done = await client.waitForJob(jobAcceptedSchema.parse(next.body).jobId)
    expect(done.status).toBe('succeeded')
    expect(await webVersion(secret)).toBe('1.3.0')
  })
})
