import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Job, ServiceHealth } from '../../shared/schemas/job'
import type { ServiceLogEntry } from '../../shared/service-output'
import { JOB_STEPS, REHEARSAL_STEPS } from '../../shared/steps'
import type { Driver, DriverRehearsal, StepContext, WatchSample } from '../../sidecar/drivers/types'
import { Journal } from '../../sidecar/journal'
import { INTERRUPTED_BEFORE_CHANGE, planResume, REHEARSAL_PASSED, Runner } from '../../sidecar/runner'

type Call = 'preflight' | 'backup' | 'stage' | 'pull' | 'deploy-functions' | 'promote' | 'recreate' | 'verify' | 'restore'

/** An in-memory driver: records what the runner asked for, fails or hangs where told to. */
class ScriptedDriver implements Driver {
  readonly name = 'local' as const
  readonly capabilities = { backups: { supported: false, reason: 'scripted' }, dataRestore: false, selfUpdate: false, images: false, rehearsals: { supported: true, reason: null } }
  readonly projectDir = '/nowhere'
  selfUpdate = async () => 'not used'
  calls: string[] = []
  failures = new Map<string, string>()
  /** Steps that wait until the runner is closed (a step in flight when the sidecar stops). */
  hangs = new Set<string>()
  version = '1.2.2'

  async start(): Promise<void> {}
  async stop(): Promise<void> {}
  installedVersion(): string {
    return this.version
  }

  async health(): Promise<ServiceHealth[]> {
    return []
  }

  serviceLogs(): ServiceLogEntry[] {
    return []
  }

  private async act(call: Call | `verify ${string}`, ctx: StepContext): Promise<void> {
    this.calls.push(call)
    if (this.hangs.has(call)) {
      await new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(new Error('aborted'))))
    }
    const failure = this.failures.get(call)
    if (failure) throw new Error(failure)
    ctx.log(`did ${call}`)
  }

  preflight = (ctx: StepContext) => this.act('preflight', ctx)
  /** What the backup step records (as the compose driver does), or null to skip it. */
  backupTaken: { path: string, createdAt: number, sizeBytes: number } | null = null
  /** The backup flag and restore request each step saw. */
  seen: Array<{ backup: boolean, restoreBackupJobId: string | null }> = []
  backup = async (ctx: StepContext) => {
    this.calls.push('backup')
    this.seen.push({ backup: ctx.backup, restoreBackupJobId: ctx.restoreBackupJobId })
    if (this.backupTaken) return ctx.recordBackup(this.backupTaken)
    ctx.skip('nothing to back up')
  }

  stage = (ctx: StepContext) => this.act('stage', ctx)
  pull = (ctx: StepContext) => this.act('pull', ctx)
  deployFunctions = (ctx: StepContext) => this.act('deploy-functions', ctx)
  /** Each promote's hop: from, to and the compose text it was handed. */
  promoted: string[] = []
  promote = (ctx: StepContext) => {
    this.promoted.push(`${ctx.fromVersion} → ${ctx.toVersion}: ${ctx.compose}`)
    return this.act('promote', ctx)
  }

  recreate = (ctx: StepContext) => this.act('recreate', ctx)
  verify = (ctx: StepContext, version: string) => this.act(`verify ${version}`, ctx)
  restore = (ctx: StepContext) => this.act('restore', ctx)
  /** Versions the watch window sampled, one entry per sample. */
  samples: string[] = []
  /** The sample (1-based) from which the stack is seen failing, with what is seen. */
  failFromSample: { at: number, detail: string } | null = null
  sample = async (_ctx: StepContext, version: string): Promise<WatchSample> => {
    this.samples.push(version)
    const fail = this.failFromSample && this.samples.length >= this.failFromSample.at ? this.failFromSample.detail : null
    return fail ? { ok: false, detail: fail } : { ok: true, detail: `healthy at ${version}` }
  }

  /** The rehearsal's calls go to `calls` prefixed with `rehearsal:`; same failures and hangs. */
  readonly rehearsal: DriverRehearsal = {
    copyBytes: async () => 1024,
    preflight: ctx => this.act('rehearsal:preflight' as Call, ctx),
    copy: ctx => this.act('rehearsal:copy' as Call, ctx),
    stage: ctx => this.act(`rehearsal:stage ${ctx.toVersion}` as Call, ctx),
    deployFunctions: ctx => this.act('rehearsal:deploy-functions' as Call, ctx),
    start: ctx => this.act(`rehearsal:start ${ctx.toVersion}` as Call, ctx),
    verify: (ctx, version) => this.act(`rehearsal:verify ${version}` as Call, ctx),
    sample: async (ctx, version) => this.sample(ctx, `rehearsal ${version}`),
    teardown: ctx => this.act('rehearsal:teardown' as Call, ctx),
    sweep: async () => [],
  }
}

describe('Runner', () => {
  let journal: Journal
  let driver: ScriptedDriver
  let runner: Runner
  let jobs = 0

  function queue(extra: { backup?: boolean, restoreBackupJobId?: string | null, toVersion?: string, stops?: Array<{ version: string, compose: string }>, kind?: Job['kind'] } = {}): Job {
    jobs += 1
    return journal.createJob({
      fromVersion: '1.2.2',
      toVersion: '1.3.0',
      ...extra,
      id: `job-${jobs}`,
      runId: null,
      kind: extra.kind ?? 'update',
      requestedBy: { email: null, via: 'cli' },
      force: false,
      compose: 'compose text',
    })
  }

  async function run(job: Job): Promise<Job> {
    runner.submit(job)
    await runner.idle()
    return journal.getJob(job.id)!
  }

  const step = (job: Job, name: string) => job.steps.find(s => s.name === name)

  beforeEach(() => {
    journal = new Journal(join(mkdtempSync(join(tmpdir(), 'owlat-runner-')), 'journal.sqlite'))
    journal.setInstalledVersion('1.2.2')
    driver = new ScriptedDriver()
    runner = new Runner({ journal, driver, log: () => {}, watchMs: 60, watchSampleMs: 10 })
  })
  afterEach(() => journal.close())

  it('runs every step in order, skips what does not apply, commits the new version', async () => {
    const job = await run(queue())
    expect(job.status).toBe('succeeded')
    expect(job.reason).toBeNull()
    expect(driver.calls).toEqual(['preflight', 'backup', 'stage', 'pull', 'deploy-functions', 'promote', 'recreate', 'verify 1.3.0'])
    expect(job.steps.map(s => [s.name, s.status])).toEqual(JOB_STEPS.map(name => [name, name === 'backup' ? 'skipped' : 'succeeded']))
    expect(step(job, 'backup')!.log).toEqual(['nothing to back up'])
    expect(step(job, 'commit')!.log).toEqual(['installed version is now 1.3.0 (was 1.2.2)'])
    expect(journal.installedVersion()).toBe('1.3.0')
    // The watch window sampled the new version until it was over, and only then committed.
    expect(driver.samples.length).toBeGreaterThanOrEqual(3)
    expect(new Set(driver.samples)).toEqual(new Set(['1.3.0']))
    const watch = step(job, 'watch')!
    expect(watch.endedAt! - watch.startedAt!).toBeGreaterThanOrEqual(60)
    expect(watch.endedAt!).toBeLessThanOrEqual(step(job, 'commit')!.startedAt!)
    expect(watch.log.at(-1)).toMatch(/^stayed healthy through the watch window \(\d+ samples over [\d.]+ s\): healthy at 1\.3\.0$/)
  })

  it('restores the previous version when a sample in the watch window fails, and says which sample saw what', async () => {
    driver.failFromSample = { at: 3, detail: 'web: /api/healthz answered 503' }
    const job = await run(queue())
    expect(job.status).toBe('rolled_back')
    expect(driver.samples).toEqual(['1.3.0', '1.3.0', '1.3.0'])
    expect(driver.calls.slice(-3)).toEqual(['verify 1.3.0', 'restore', 'verify 1.2.2'])
    expect(step(job, 'watch')).toMatchObject({ status: 'failed', error: expect.stringMatching(/^sample 3 of the watch window \([\d.]+ s of [\d.]+ s\) failed: web: \/api\/healthz answered 503$/) })
    expect(step(job, 'commit')!.status).toBe('pending')
    expect(job.reason).toMatch(/^watch failed: sample 3 of the watch window \(.*\) failed: web: \/api\/healthz answered 503; restored 1\.2\.2$/)
    expect(journal.installedVersion()).toBe('1.2.2')
  })

  it('hands the backup choice to the driver and journals the backup it took on the job', async () => {
    expect((await run(queue({ backup: false }))).backup).toBeNull()
    driver.backupTaken = { path: '/opt/owlat/backups/job-x', createdAt: 1_700_000_000_000, sizeBytes: 4096 }
    journal.setInstalledVersion('1.2.2')
    const job = await run(queue({ restoreBackupJobId: 'job-0' }))
    expect(driver.seen).toEqual([{ backup: false, restoreBackupJobId: null }, { backup: true, restoreBackupJobId: 'job-0' }])
    expect(job.backup).toEqual(driver.backupTaken)
    expect(step(job, 'backup')!.status).toBe('succeeded')
    expect(journal.getJob(job.id)!.backup).toEqual(driver.backupTaken)
  })

  it('fails without touching anything when a step before promote fails', async () => {
    driver.failures.set('pull', 'image not found')
    const job = await run(queue())
    expect(job.status).toBe('failed')
    expect(job.reason).toBe('pull failed: image not found; nothing was changed')
    expect(driver.calls).toEqual(['preflight', 'backup', 'stage', 'pull'])
    expect(step(job, 'pull')).toMatchObject({ status: 'failed', error: 'image not found' })
    expect(step(job, 'restore')).toBeUndefined()
    expect(journal.installedVersion()).toBe('1.2.2')
  })

  it('restores and verifies the previous version when verification fails', async () => {
    driver.failures.set('verify 1.3.0', 'web did not become healthy within 3 s (last: /api/healthz answered 503)')
    const job = await run(queue())
    expect(job.status).toBe('rolled_back')
    expect(job.reason).toBe('verify failed: web did not become healthy within 3 s (last: /api/healthz answered 503); restored 1.2.2')
    expect(driver.calls.slice(-3)).toEqual(['verify 1.3.0', 'restore', 'verify 1.2.2'])
    expect(step(job, 'commit')!.status).toBe('pending')
    expect(step(job, 'verify-restore')!.status).toBe('succeeded')
    expect(journal.installedVersion()).toBe('1.2.2')
  })

  it('ends failed with both reasons when the restore fails too', async () => {
    driver.failures.set('recreate', 'port in use')
    driver.failures.set('restore', 'no previous compose file')
    const job = await run(queue())
    expect(job.status).toBe('failed')
    expect(job.reason).toBe('recreate failed: port in use; restore failed: no previous compose file')
    expect(step(job, 'verify-restore')).toBeUndefined()
  })

  it('ends failed when the restored version does not verify', async () => {
    driver.failures.set('verify 1.3.0', 'unhealthy')
    driver.failures.set('verify 1.2.2', 'still unhealthy')
    const job = await run(queue())
    expect(job.status).toBe('failed')
    expect(job.reason).toBe('verify failed: unhealthy; restore failed: verify-restore failed: still unhealthy')
  })

  describe('through required upgrade stops', () => {
    const throughStop = () => queue({ toVersion: '1.3.1', stops: [{ version: '1.3.0', compose: 'stop compose' }] })
    const hopStep = (job: Job, hop: number, name: string) => job.steps.find(s => s.name === name && s.hop === hop)

    it('runs one hop per version, each verified, watched and committed before the next begins', async () => {
      const job = await run(throughStop())
      expect(job.status).toBe('succeeded')
      expect(job.path).toEqual(['1.3.0', '1.3.1'])
      expect(driver.promoted).toEqual(['1.2.2 → 1.3.0: stop compose', '1.3.0 → 1.3.1: compose text'])
      expect(driver.calls.filter(c => c.startsWith('verify'))).toEqual(['verify 1.3.0', 'verify 1.3.1'])
      expect(hopStep(job, 0, 'commit')!.log).toEqual(['installed version is now 1.3.0 (was 1.2.2)'])
      expect(hopStep(job, 1, 'commit')!.log).toEqual(['installed version is now 1.3.1 (was 1.3.0)'])
      expect(hopStep(job, 0, 'commit')!.endedAt!).toBeLessThanOrEqual(hopStep(job, 1, 'preflight')!.startedAt!)
      expect(hopStep(job, 1, 'preflight')!.log[0]).toBe('hop 2 of 2 (1.3.0 → 1.3.1)')
      // One backup, before anything changed.
      expect(driver.calls.filter(c => c === 'backup')).toHaveLength(1)
      expect(hopStep(job, 1, 'backup')).toMatchObject({ status: 'skipped', log: ['the data was backed up before hop 1 (1.2.2)'] })
      expect(new Set(driver.samples)).toEqual(new Set(['1.3.0', '1.3.1']))
      expect(journal.installedVersion()).toBe('1.3.1')
    })

    it('restores a failing second hop to the version the first committed, and says which hop failed and where the stack stands', async () => {
      driver.failures.set('verify 1.3.1', 'unhealthy')
      const job = await run(throughStop())
      expect(job.status).toBe('rolled_back')
      expect(job.reason).toBe('hop 2 of 2 (1.3.0 → 1.3.1): verify failed: unhealthy; restored 1.3.0, which the hop before committed: the stack runs 1.3.0')
      expect(driver.calls.slice(-3)).toEqual(['verify 1.3.1', 'restore', 'verify 1.3.0'])
      expect(hopStep(job, 0, 'commit')!.status).toBe('succeeded')
      expect(hopStep(job, 1, 'restore')!.status).toBe('succeeded')
      expect(hopStep(job, 1, 'verify-restore')!.status).toBe('succeeded')
      expect(journal.installedVersion()).toBe('1.3.0')
    })

    it('ends failed on the first hop\'s version when the second fails before it changes anything', async () => {
      driver.failures.set('pull', 'image not found')
      const job = await run(queue({ toVersion: '1.3.1', stops: [{ version: '1.3.0', compose: 'stop compose' }] }))
      // The scripted pull fails on every hop: the first one's.
      expect(job.reason).toBe('hop 1 of 2 (1.2.2 → 1.3.0): pull failed: image not found; nothing was changed')
      driver.failures.clear()
      driver.calls = []
      let pulls = 0
      driver.pull = async (ctx: StepContext) => {
        pulls += 1
        if (pulls === 2) throw new Error('image not found')
        ctx.log('pulled')
      }
      journal.setInstalledVersion('1.2.2')
      const second = await run(throughStop())
      expect(second.status).toBe('failed')
      expect(second.reason).toBe('hop 2 of 2 (1.3.0 → 1.3.1): pull failed: image not found; nothing of this hop was changed: the stack runs 1.3.0, which the hop before committed')
      expect(driver.calls).not.toContain('restore')
      expect(journal.installedVersion()).toBe('1.3.0')
    })

    it('resumes at the next hop when the sidecar stopped right after a hop committed', async () => {
      const job = throughStop()
      journal.setJobStatus(job.id, 'running')
      for (const name of JOB_STEPS) {
        journal.startStep(job.id, name, Date.now(), 0)
        journal.finishStep(job.id, name, 'succeeded', null, Date.now(), 0)
      }
      journal.setInstalledVersion('1.3.0')
      expect(planResume(journal.getJob(job.id)!)).toEqual({ action: 'continue', fromIndex: 0, hop: 1 })
      runner.resumeInterrupted()
      await runner.idle()
      const done = journal.getJob(job.id)!
      expect(done.status).toBe('succeeded')
      expect(driver.promoted).toEqual(['1.3.0 → 1.3.1: compose text'])
      expect(journal.installedVersion()).toBe('1.3.1')
    })

    it('fails a job whose second hop was cut short before it changed anything, saying where the stack stands', async () => {
      const job = throughStop()
      journal.setJobStatus(job.id, 'running')
      for (const name of JOB_STEPS) journal.startStep(job.id, name, Date.now(), 0)
      journal.startStep(job.id, 'preflight', Date.now(), 1)
      expect(planResume(journal.getJob(job.id)!)).toEqual({ action: 'fail', reason: `hop 2 of 2 (1.3.0 → 1.3.1): ${INTERRUPTED_BEFORE_CHANGE} in this hop; the stack runs 1.3.0, which the hop before committed` })
    })

    it('restores a second hop cut short after it failed, and the reason still names the hop', async () => {
      const job = throughStop()
      journal.setJobStatus(job.id, 'running')
      for (const name of JOB_STEPS) {
        journal.startStep(job.id, name, Date.now(), 0)
        journal.finishStep(job.id, name, 'succeeded', null, Date.now(), 0)
      }
      journal.setInstalledVersion('1.3.0')
      for (const name of JOB_STEPS.slice(0, JOB_STEPS.indexOf('verify'))) {
        journal.startStep(job.id, name, Date.now(), 1)
        journal.finishStep(job.id, name, 'succeeded', null, Date.now(), 1)
      }
      journal.startStep(job.id, 'verify', Date.now(), 1)
      journal.finishStep(job.id, 'verify', 'failed', 'unhealthy', Date.now(), 1)
      expect(planResume(journal.getJob(job.id)!)).toEqual({ action: 'restore', failure: 'hop 2 of 2 (1.3.0 → 1.3.1): verify failed: unhealthy', hop: 1 })
      runner.resumeInterrupted()
      await runner.idle()
      const done = journal.getJob(job.id)!
      expect(done.status).toBe('rolled_back')
      expect(done.reason).toBe('hop 2 of 2 (1.3.0 → 1.3.1): verify failed: unhealthy; restored 1.3.0, which the hop before committed: the stack runs 1.3.0 (after an updater restart)')
      expect(driver.calls).toEqual(['restore', 'verify 1.3.0'])
    })
  })

  describe('a rehearsal', () => {
    const rehearsal = (extra: Parameters<typeof queue>[0] = {}) => queue({ ...extra, kind: 'rehearsal' })

    it('runs the target on the copy, watches it, tears it down and never promotes or commits', async () => {
      const job = await run(rehearsal())
      expect(job.status).toBe('succeeded')
      expect(job.reason).toBe(REHEARSAL_PASSED)
      expect(driver.calls).toEqual(['rehearsal:preflight', 'rehearsal:copy', 'rehearsal:stage 1.3.0', 'pull', 'rehearsal:deploy-functions', 'rehearsal:start 1.3.0', 'rehearsal:verify 1.3.0', 'rehearsal:teardown'])
      expect(job.steps.map(s => [s.name, s.status])).toEqual(REHEARSAL_STEPS.map(name => [name, 'succeeded']))
      expect(new Set(driver.samples)).toEqual(new Set(['rehearsal 1.3.0']))
      expect(journal.installedVersion()).toBe('1.2.2')
    })

    it('tears down after a failing step and fails with its reason, the running version untouched', async () => {
      driver.failures.set('rehearsal:verify 1.3.0', 'web never became healthy')
      const job = await run(rehearsal())
      expect(job.status).toBe('failed')
      expect(job.reason).toBe('verify failed: web never became healthy; the rehearsal was torn down; the production stack was not touched')
      expect(driver.calls.at(-1)).toBe('rehearsal:teardown')
      expect(driver.calls).not.toContain('promote')
      expect(driver.calls).not.toContain('restore')
      expect(step(job, 'watch')!.status).toBe('pending')
      expect(step(job, 'teardown')!.status).toBe('succeeded')
      expect(journal.installedVersion()).toBe('1.2.2')
    })

    it('fails when the watch window sees the copy fall over, and says so after the teardown', async () => {
      driver.failFromSample = { at: 2, detail: 'web: unhealthy' }
      const job = await run(rehearsal())
      expect(job.status).toBe('failed')
      expect(job.reason).toMatch(/^watch failed: sample 2 of the watch window .* failed: web: unhealthy; the rehearsal was torn down; the production stack was not touched$/)
    })

    it('says so when the teardown fails too', async () => {
      driver.failures.set('rehearsal:verify 1.3.0', 'unhealthy')
      driver.failures.set('rehearsal:teardown', 'volume in use')
      const job = await run(rehearsal())
      expect(job.reason).toBe('verify failed: unhealthy; teardown failed too: volume in use; the production stack was not touched')
    })

    it('goes through required stops on the one copy, tearing down only after the last hop', async () => {
      const job = await run(rehearsal({ toVersion: '1.3.1', stops: [{ version: '1.3.0', compose: 'stop compose' }] }))
      expect(job.status).toBe('succeeded')
      expect(driver.calls).toEqual([
        'rehearsal:preflight', 'rehearsal:copy', 'rehearsal:stage 1.3.0', 'pull', 'rehearsal:deploy-functions', 'rehearsal:start 1.3.0', 'rehearsal:verify 1.3.0',
        'rehearsal:preflight', 'rehearsal:stage 1.3.1', 'pull', 'rehearsal:deploy-functions', 'rehearsal:start 1.3.1', 'rehearsal:verify 1.3.1', 'rehearsal:teardown',
      ])
      expect(job.steps.filter(s => s.name === 'teardown').map(s => s.status)).toEqual(['skipped', 'succeeded'])
      expect(journal.installedVersion()).toBe('1.2.2')
    })

    it('is torn down and failed after a restart cut it short, whatever step it was in', async () => {
      driver.hangs.add('rehearsal:verify 1.3.0')
      const queued = rehearsal()
      runner.submit(queued)
      while (step(journal.getJob(queued.id)!, 'verify')!.status !== 'running') await new Promise(resolve => setTimeout(resolve, 10))
      await runner.close()
      const cut = journal.getJob(queued.id)!
      expect(planResume(cut)).toEqual({ action: 'teardown', failure: 'interrupted by an updater restart during verify', hop: 0 })
      driver.calls = []
      runner = new Runner({ journal, driver, log: () => {}, watchMs: 60, watchSampleMs: 10 })
      runner.resumeInterrupted()
      await runner.idle()
      const job = journal.getJob(queued.id)!
      expect(driver.calls).toEqual(['rehearsal:teardown'])
      expect(job.status).toBe('failed')
      expect(job.reason).toBe('interrupted by an updater restart during verify; the rehearsal was torn down; the production stack was not touched (after an updater restart)')
      expect(step(job, 'verify')).toMatchObject({ status: 'failed', error: 'interrupted by an updater restart' })
    })

    it('counts a rehearsal that had torn down before the restart as passed', () => {
      const job = rehearsal()
      journal.setJobStatus(job.id, 'running')
      for (const name of REHEARSAL_STEPS) {
        journal.startStep(job.id, name)
        journal.finishStep(job.id, name, 'succeeded')
      }
      expect(planResume(journal.getJob(job.id)!)).toEqual({ action: 'succeed' })
      runner.resumeInterrupted()
      expect(journal.getJob(job.id)!).toMatchObject({ status: 'succeeded', reason: `${REHEARSAL_PASSED} (recorded after an updater restart)` })
    })
  })

  it('leaves a job cut short by shutdown as it was, for the next start to resume', async () => {
    driver.hangs.add('verify 1.3.0')
    const queued = queue()
    runner.submit(queued)
    while (step(journal.getJob(queued.id)!, 'verify')!.status !== 'running') {
      await new Promise(resolve => setTimeout(resolve, 10))
    }
    await runner.close()
    const job = journal.getJob(queued.id)!
    expect(job.status).toBe('running')
    expect(step(job, 'verify')!.status).toBe('running')
    expect(step(job, 'restore')).toBeUndefined()
  })

  describe('resuming after a restart', () => {
    /** A job as a killed sidecar leaves it: steps up to `last` done, `last` still running. */
    function interrupted(last: typeof JOB_STEPS[number]): Job {
      const job = queue()
      journal.setJobStatus(job.id, 'running')
      for (const name of JOB_STEPS.slice(0, JOB_STEPS.indexOf(last) + 1)) {
        journal.startStep(job.id, name)
        if (name !== last) journal.finishStep(job.id, name, 'succeeded')
      }
      return journal.getJob(job.id)!
    }

    async function resume(): Promise<void> {
      runner.resumeInterrupted()
      await runner.idle()
    }

    it('fails a job that never reached promote, and closes its running step', async () => {
      const job = interrupted('pull')
      expect(planResume(job)).toEqual({ action: 'fail', reason: INTERRUPTED_BEFORE_CHANGE })
      runner.resumeInterrupted()
      const after = journal.getJob(job.id)!
      expect(after).toMatchObject({ status: 'failed', reason: 'interrupted by an updater restart before anything changed' })
      expect(step(after, 'pull')).toMatchObject({ status: 'failed', error: 'interrupted by an updater restart' })
      expect(driver.calls).toEqual([])
    })

    it('fails a job that was still queued', () => {
      const job = queue()
      runner.resumeInterrupted()
      expect(journal.getJob(job.id)).toMatchObject({ status: 'failed', reason: INTERRUPTED_BEFORE_CHANGE })
    })

    it('continues from recreate after a finished promote and commits', async () => {
      const job = interrupted('verify')
      journal.finishStep(job.id, 'promote', 'succeeded')
      expect(planResume(journal.getJob(job.id)!)).toEqual({ action: 'continue', fromIndex: JOB_STEPS.indexOf('recreate'), hop: 0 })
      await resume()
      const after = journal.getJob(job.id)!
      expect(driver.calls).toEqual(['recreate', 'verify 1.3.0'])
      expect(after).toMatchObject({ status: 'succeeded', reason: 'completed after an updater restart' })
      expect(step(after, 'recreate')!.log[0]).toBe('resumed after an updater restart')
      expect(journal.installedVersion()).toBe('1.3.0')
    })

    it('runs an interrupted promote again, then restores when verification fails', async () => {
      const job = interrupted('promote')
      expect(planResume(job)).toEqual({ action: 'continue', fromIndex: JOB_STEPS.indexOf('promote'), hop: 0 })
      driver.failures.set('verify 1.3.0', 'unhealthy')
      await resume()
      const after = journal.getJob(job.id)!
      expect(driver.calls).toEqual(['promote', 'recreate', 'verify 1.3.0', 'restore', 'verify 1.2.2'])
      expect(after).toMatchObject({ status: 'rolled_back', reason: 'verify failed: unhealthy; restored 1.2.2 (after an updater restart)' })
    })

    it('goes straight to the restore when a step after promote had already failed', async () => {
      const job = interrupted('verify')
      journal.finishStep(job.id, 'verify', 'failed', 'unhealthy')
      journal.startStep(job.id, 'restore')
      expect(planResume(journal.getJob(job.id)!)).toEqual({ action: 'restore', failure: 'verify failed: unhealthy', hop: 0 })
      await resume()
      expect(driver.calls).toEqual(['restore', 'verify 1.2.2'])
      expect(journal.getJob(job.id)).toMatchObject({ status: 'rolled_back', reason: 'verify failed: unhealthy; restored 1.2.2 (after an updater restart)' })
    })

    it('only marks a job succeeded whose commit was journaled', () => {
      const job = interrupted('commit')
      journal.finishStep(job.id, 'commit', 'succeeded')
      expect(planResume(journal.getJob(job.id)!)).toEqual({ action: 'succeed' })
      runner.resumeInterrupted()
      expect(journal.getJob(job.id)).toMatchObject({ status: 'succeeded', reason: 'committed after an updater restart' })
      expect(driver.calls).toEqual([])
    })
  })
})
