/**
 * The driver contract (DESIGN.md: "both drivers pass one driver test suite"): what every driver
 * does the same way, through the sidecar's signed API, its runner and its journal. Each driver's
 * file gives a harness that makes a stack at a known version and a few releases for it; the
 * driver-specific details stay in that driver's own tests.
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { Job, JobRequest } from '../../shared/schemas/job'
import { sidecarHealthSchema } from '../../shared/schemas/job'
import type { DriverName } from '../../shared/schemas/common'
import type { DriverCapabilities } from '../../sidecar/drivers/types'
import { stepOutput } from '../../shared/run-outcome'
import { REHEARSAL_PASSED } from '../../sidecar/runner'
import { outputHeader } from '../../shared/service-output'
import { eventually, runSidecarProcess, type SidecarClient, type SidecarProcess } from '../sidecar/helpers'

export interface HarnessStack {
  /** The sidecar's API. */
  client: SidecarClient
  /** A job request for a release the harness signed. */
  request: (version: string, overrides?: Partial<JobRequest>) => JobRequest
  /** The version the stack really runs, asked the driver's way (the web itself, not the journal). */
  running: () => Promise<string>
  /** The current compose file's text. */
  compose: () => string
  /** Whether the staged and the kept previous compose files exist. */
  sideFiles: () => { next: boolean, prev: boolean }
  /** Makes the running web stop answering; the returned function makes it answer again. */
  disturb: () => Promise<() => Promise<void>>
  /** What runs, by identity (the web's pid, the containers' ids): a rehearsal must leave it as it was. */
  identity: () => Promise<string>
  /** What is left of rehearsal `job` (its copy, its processes or containers): nothing, once it ended. */
  rehearsalLeft: (job: Job) => Promise<string[]>
  /** The stack's data, for drivers whose capabilities include backups. */
  data?: { write: (text: string) => Promise<void>, read: () => Promise<string> }
  /** Stops the sidecar and removes the stack. */
  close: () => Promise<void>
}

/** A stack with a sidecar running in this process. */
export interface ContractStack extends HarnessStack {
  /** What the driver declares it can do. */
  capabilities: DriverCapabilities
}

/** A stack for a sidecar the suite runs as its own process, from `env`. */
export interface ProcessStack extends HarnessStack {
  env: Record<string, string>
}

export interface DriverHarness {
  name: DriverName
  installed: string
  /** A newer release that comes up healthy. */
  good: string
  /** A newer release whose web never becomes healthy. */
  broken: string
  /** What the broken release's web writes on its own output, where it says anything (kept with the job). */
  brokenSays?: string
  /** A newer release whose web comes up healthy and answers its version, then turns unhealthy. */
  fading: string
  /** A watch window (OWLAT_WATCH_MS) long enough for `fading` to turn unhealthy inside it. */
  fadingWatchMs: number
  /** How long a job may take. */
  jobTimeoutMs: number
  /** A stack at `installed` with a sidecar on it; `env` adds to (or overrides) the sidecar's environment. */
  start: (env?: Record<string, string>) => Promise<ContractStack>
  /**
   * A stack at `installed` without a sidecar (the suite runs it as its own process), on which a
   * job for `slow` is still past promote seconds later, long enough to kill the sidecar there.
   */
  startForProcess: () => Promise<ProcessStack>
  slow: string
  /**
   * The step that must have succeeded before the kill (default `promote`): a driver whose
   * `afterKill` checks what `recreate` started waits for that step, not just any step after promote.
   */
  killAfter?: 'promote' | 'recreate'
  /**
   * Driver-specific checks: called right after the SIGKILL (what the dead sidecar left behind);
   * what it returns runs once the restarted sidecar has stopped cleanly.
   */
  afterKill?: (stack: ProcessStack) => Promise<() => Promise<void>>
  /** Whether what runs outlives the updater (compose), so its identity is the same after a restart (the local driver restarts its web). */
  stackOutlivesUpdater?: boolean
  /** False for a driver whose capabilities say it cannot rehearse: its rehearsal tests check the refusal instead. */
  rehearsals?: false
}

const step = (job: Job, name: string) => job.steps.find(s => s.name === name)!
/** From the job's creation to its last step's end. */
const wallSeconds = (job: Job) => ((Math.max(...job.steps.map(st => st.endedAt ?? 0)) - job.createdAt) / 1000).toFixed(1)

export function describeDriverContract(harness: DriverHarness): void {
  describe(`driver contract: ${harness.name}`, () => {
    let stack: HarnessStack | null = null
    // Room for a stack, a job or two and the clean-up, on an engine that may be slow.
    const timeout = harness.jobTimeoutMs * 3

    afterEach(async () => {
      await stack?.close()
      stack = null
    })

    async function open(env?: Record<string, string>) {
      const s = await harness.start(env)
      stack = s
      return s
    }

    async function submit(s: HarnessStack, version: string, overrides: Partial<JobRequest> = {}, hops = 1): Promise<Job> {
      const { jobId } = await s.client.createJob(s.request(version, overrides))
      return s.client.waitForJob(jobId, undefined, harness.jobTimeoutMs * hops)
    }

    /** What a rehearsal must leave as it was: production's compose file, its identity and its data. */
    async function productionBefore(s: HarnessStack): Promise<{ compose: string, identity: string }> {
      await s.data?.write('written-before-the-rehearsal')
      return { compose: s.compose(), identity: await s.identity() }
    }

    /** Nothing of the rehearsal is left, and production runs as it did before it. */
    async function expectUntouched(s: HarnessStack, job: Job, before: { compose: string, identity: string }): Promise<void> {
      expect(await s.rehearsalLeft(job)).toEqual([])
      expect(await s.running()).toBe(harness.installed)
      expect(await healthVersion(s)).toBe(harness.installed)
      expect(await s.identity()).toBe(before.identity)
      expect(s.compose()).toBe(before.compose)
      expect(s.sideFiles()).toEqual({ next: false, prev: false })
      if (s.data) expect(await s.data.read()).toBe('written-before-the-rehearsal')
    }

    async function healthVersion(s: HarnessStack): Promise<string> {
      return sidecarHealthSchema.parse((await s.client.request('GET', '/v1/health')).body).version
    }

    it('updates: every step runs or says why it does not apply, and the stack runs the new version', { timeout }, async () => {
      const s = await open()
      expect(await s.running()).toBe(harness.installed)
      await s.data?.write('written-before-the-update')

      const job = await submit(s, harness.good)

      expect(job.status, JSON.stringify(job.steps.filter(st => st.error))).toBe('succeeded')
      expect(job).toMatchObject({ kind: 'update', fromVersion: harness.installed, toVersion: harness.good, reason: null })
      for (const st of job.steps.filter(st => !['restore', 'verify-restore'].includes(st.name))) {
        expect([st.name, st.status]).toEqual([st.name, expect.stringMatching(/^(succeeded|skipped)$/)])
        expect(st.log.length, `${st.name} says what it did`).toBeGreaterThan(0)
      }
      expect(step(job, 'backup').status).toBe(s.capabilities.backups.supported ? 'succeeded' : 'skipped')
      expect(await s.running()).toBe(harness.good)
      expect(await healthVersion(s)).toBe(harness.good)
      expect(s.compose()).toBe(s.request(harness.good).compose)
      expect(s.sideFiles()).toEqual({ next: false, prev: true })
      if (s.data) expect(await s.data.read()).toBe('written-before-the-update')
    })

    it('fails before promote without changing anything: an unhealthy stack is not updated', { timeout }, async () => {
      const s = await open()
      const compose = s.compose()
      const heal = await s.disturb()
      const job = await submit(s, harness.good)
      await heal()

      expect(job.status).toBe('failed')
      expect(job.reason).toMatch(/^preflight failed: the running stack is not healthy, use force to update anyway: .*; nothing was changed$/)
      expect(step(job, 'promote').status).toBe('pending')
      expect(s.compose()).toBe(compose)
      expect(s.sideFiles()).toEqual({ next: false, prev: false })
      await eventually(async () => (await s.running()) === harness.installed, 'the web answering again')
      expect(await healthVersion(s)).toBe(harness.installed)
    })

    it('restores the previous version by itself when the new one never becomes healthy', { timeout }, async () => {
      const s = await open()
      const compose = s.compose()
      await s.data?.write('written-before-the-update')

      const job = await submit(s, harness.broken)

      expect(job.status).toBe('rolled_back')
      expect(job.reason).toMatch(new RegExp(`^verify failed: .*; restored ${harness.installed.replace(/\./g, '\\.')}$`))
      expect(Object.fromEntries(job.steps.map(st => [st.name, st.status]))).toMatchObject({
        'promote': 'succeeded', 'verify': 'failed', 'commit': 'pending', 'restore': 'succeeded', 'verify-restore': 'succeeded',
      })
      expect(await s.running()).toBe(harness.installed)
      expect(await healthVersion(s)).toBe(harness.installed)
      expect(s.compose()).toBe(compose)
      if (s.data) expect(await s.data.read()).toBe('written-before-the-update')
      // The failing service's own last lines stay with the job (issue 13: a failure names its cause).
      const verifyLog = step(job, 'verify').log
      expect(verifyLog.some(line => line === outputHeader('web', harness.broken, 0) || line.startsWith('the last ')), verifyLog.join('\n')).toBe(true)
      const output = stepOutput(step(job, 'verify'))
      for (const line of output) expect(line).toMatchObject({ service: 'web', version: harness.broken })
      if (harness.brokenSays) expect(output.map(line => line.line).join('\n')).toContain(harness.brokenSays)
    })

    it('restores the previous version when the new one passes verify and then falls over inside the watch window', { timeout }, async () => {
      const s = await open({ OWLAT_WATCH_MS: String(harness.fadingWatchMs) })
      const compose = s.compose()
      await s.data?.write('written-before-the-update')

      const job = await submit(s, harness.fading)

      expect(job.status, JSON.stringify(job.steps.filter(st => st.error))).toBe('rolled_back')
      expect(Object.fromEntries(job.steps.map(st => [st.name, st.status]))).toMatchObject({
        'promote': 'succeeded', 'verify': 'succeeded', 'watch': 'failed', 'commit': 'pending', 'restore': 'succeeded', 'verify-restore': 'succeeded',
      })
      // The reason names the failing sample: its number, when in the window it came, what it saw.
      const watch = step(job, 'watch')
      expect(watch.error).toMatch(/^sample \d+ of the watch window \([\d.]+ s of [\d.]+ s\) failed: .*web.*/)
      expect(job.reason).toBe(`watch failed: ${watch.error}; restored ${harness.installed}`)
      expect(watch.log[0]).toMatch(new RegExp(`^watching every service and the web's version \\(${harness.fading.replace(/\./g, '\\.')}\\) for ${harness.fadingWatchMs / 1000} s`))
      // It was healthy for a while before it fell over: the window, not verify, caught it.
      expect(watch.endedAt! - watch.startedAt!).toBeGreaterThan(1000)
      expect(await s.running()).toBe(harness.installed)
      expect(await healthVersion(s)).toBe(harness.installed)
      expect(s.compose()).toBe(compose)
      if (s.data) expect(await s.data.read()).toBe('written-before-the-update')
    })

    it('goes through a required stop hop by hop, and restores a failing second hop to the version the first committed', { timeout: timeout * 2 }, async () => {
      const s = await open()
      const { manifest, signature, compose } = s.request(harness.good)

      const job = await submit(s, harness.broken, { stops: [{ manifest, signature, compose }] }, 2)

      expect(job.status, JSON.stringify(job.steps.filter(st => st.error))).toBe('rolled_back')
      expect(job).toMatchObject({ fromVersion: harness.installed, toVersion: harness.broken, path: [harness.good, harness.broken] })
      const byHop = (hop: number) => Object.fromEntries(job.steps.filter(st => (st.hop ?? 0) === hop).map(st => [st.name, st.status]))
      expect(byHop(0)).toMatchObject({ verify: 'succeeded', watch: 'succeeded', commit: 'succeeded' })
      expect(byHop(1)).toMatchObject({ 'promote': 'succeeded', 'verify': 'failed', 'commit': 'pending', 'restore': 'succeeded', 'verify-restore': 'succeeded' })
      const v = (version: string) => version.replace(/\./g, '\\.')
      expect(job.reason).toMatch(new RegExp(`^hop 2 of 2 \\(${v(harness.good)} → ${v(harness.broken)}\\): verify failed: .*; restored ${v(harness.good)}, which the hop before committed: the stack runs ${v(harness.good)}$`))
      expect(await s.running()).toBe(harness.good)
      expect(await healthVersion(s)).toBe(harness.good)
      expect(s.compose()).toBe(compose)
    })

    it('settles a job whose updater was SIGKILLed after promote, once it runs again', { timeout: Math.max(timeout, 300_000) }, async () => {
      const s = await harness.startForProcess()
      stack = s
      const first = runSidecarProcess(s.env)
      let restarted: SidecarProcess | null = null
      try {
        await eventually(async () => (await s.client.request('GET', '/v1/health')).status === 200, 'the first updater up', 120_000)
        const { jobId } = await s.client.createJob(s.request(harness.slow))
        const killAfter = harness.killAfter ?? 'promote'
        await s.client.waitForJob(jobId, j => step(j, killAfter).status === 'succeeded' && j.steps.some(st => st.status === 'running'), harness.jobTimeoutMs)
        first.child.kill('SIGKILL')
        expect(await first.exited).toEqual({ code: null, signal: 'SIGKILL' })
        const afterStop = await harness.afterKill?.(s)

        restarted = runSidecarProcess(s.env)
        await eventually(async () => (await s.client.request('GET', '/v1/health')).status === 200, 'the second updater up', 180_000)
        const job = await s.client.waitForJob(jobId, undefined, harness.jobTimeoutMs * 2)

        expect(['succeeded', 'rolled_back']).toContain(job.status)
        expect(job.reason).toMatch(/after an updater restart\)?$/)
        expect(step(job, 'recreate').log).toContain('resumed after an updater restart')
        // What runs, the journal and the compose file agree on where the job ended.
        const landed = job.status === 'succeeded' ? job.toVersion : job.fromVersion
        expect(await s.running()).toBe(landed)
        expect(await healthVersion(s)).toBe(landed)
        expect(s.compose()).toBe(s.request(landed).compose)
        await restarted.stop()
        expect(await restarted.exited).toEqual({ code: 0, signal: null })
        await afterStop?.()
      }
      finally {
        await first.stop()
        await restarted?.stop()
      }
    })

    /** A driver that cannot rehearse refuses one at admission, with its reason, and nothing runs. */
    async function refusesRehearsal(s: ContractStack, version: string): Promise<boolean> {
      const { supported, reason } = s.capabilities.rehearsals
      if (supported) return false
      const compose = s.compose()
      expect(await s.client.request('POST', '/v1/jobs', s.request(version, { kind: 'rehearsal' }))).toEqual({ status: 400, body: { error: reason } })
      expect(s.compose()).toBe(compose)
      expect(await s.running()).toBe(harness.installed)
      return true
    }

    it('rehearses a release on a copy of the data: it passes, is torn down, and production is untouched', { timeout: timeout * 2 }, async () => {
      const s = await open()
      if (await refusesRehearsal(s, harness.good)) return
      const before = await productionBefore(s)

      const job = await submit(s, harness.good, { kind: 'rehearsal' })

      expect(job.status, JSON.stringify(job.steps.filter(st => st.error))).toBe('succeeded')
      expect(job).toMatchObject({ kind: 'rehearsal', fromVersion: harness.installed, toVersion: harness.good, reason: REHEARSAL_PASSED })
      for (const st of job.steps) {
        expect([st.name, st.status]).toEqual([st.name, expect.stringMatching(/^(succeeded|skipped)$/)])
        expect(st.log.length, `${st.name} says what it did`).toBeGreaterThan(0)
      }
      expect(step(job, 'verify').status).toBe('succeeded')
      expect(step(job, 'teardown').status).toBe('succeeded')
      await expectUntouched(s, job, before)

      // The same release for real, for the record of what a rehearsal costs next to the update.
      const update = await submit(s, harness.good)
      expect(update.status).toBe('succeeded')
      console.log(`[durations] ${harness.name}: rehearsal of ${harness.good} ${wallSeconds(job)} s, update to ${harness.good} ${wallSeconds(update)} s`)
    })

    it('a rehearsal of a release that never becomes healthy fails with the reason, is torn down, and changes nothing', { timeout }, async () => {
      const s = await open()
      if (await refusesRehearsal(s, harness.broken)) return
      const before = await productionBefore(s)

      const job = await submit(s, harness.broken, { kind: 'rehearsal' })

      expect(job.status).toBe('failed')
      expect(job.reason).toMatch(/^verify failed: .*; the rehearsal was torn down; the production stack was not touched$/)
      expect(Object.fromEntries(job.steps.map(st => [st.name, st.status]))).toMatchObject({ recreate: 'succeeded', verify: 'failed', watch: 'pending', teardown: 'succeeded' })
      await expectUntouched(s, job, before)
    })

    it.skipIf(harness.rehearsals === false)('tears down a rehearsal whose updater was SIGKILLed during the watch, once it runs again, and fails it', { timeout: Math.max(timeout, 300_000) }, async () => {
      const s = await harness.startForProcess()
      stack = s
      // A watch long enough to kill the updater inside it.
      const env = { ...s.env, OWLAT_WATCH_MS: '600000' }
      const first = runSidecarProcess(env)
      let restarted: SidecarProcess | null = null
      try {
        await eventually(async () => (await s.client.request('GET', '/v1/health')).status === 200, 'the first updater up', 120_000)
        const compose = s.compose()
        const identity = await s.identity()
        const { jobId } = await s.client.createJob(s.request(harness.good, { kind: 'rehearsal' }))
        const watching = await s.client.waitForJob(jobId, j => step(j, 'watch').status === 'running', harness.jobTimeoutMs)
        first.child.kill('SIGKILL')
        expect(await first.exited).toEqual({ code: null, signal: 'SIGKILL' })
        // The dead updater's rehearsal is still there (what the restart must clean).
        expect((await s.rehearsalLeft(watching)).length).toBeGreaterThan(0)

        restarted = runSidecarProcess(env)
        await eventually(async () => (await s.client.request('GET', '/v1/health')).status === 200, 'the second updater up', 180_000)
        const job = await s.client.waitForJob(jobId, undefined, harness.jobTimeoutMs * 2)

        expect(job.status).toBe('failed')
        expect(job.reason).toBe('interrupted by an updater restart during watch; the rehearsal was torn down; the production stack was not touched (after an updater restart)')
        expect(step(job, 'teardown')).toMatchObject({ status: 'succeeded', log: expect.arrayContaining(['resumed after an updater restart']) })
        expect(await s.rehearsalLeft(job)).toEqual([])
        // Where the stack dies with its updater (local), the restarted updater brings production back
        // on its own, in parallel with the teardown: wait for it rather than race it.
        await eventually(async () => (await s.running()) === harness.installed, 'production answering the installed version')
        if (harness.stackOutlivesUpdater) expect(await s.identity()).toBe(identity)
        expect(s.compose()).toBe(compose)
        await restarted.stop()
        expect(await restarted.exited).toEqual({ code: 0, signal: null })
      }
      finally {
        await first.stop()
        await restarted?.stop()
      }
    })

    it('backs up where it declares backups, and a rollback can put back the data of the version it returns to', { timeout }, async () => {
      const s = await open()
      await s.data?.write('written-before-the-update')
      const update = await submit(s, harness.good)
      expect(update.status).toBe('succeeded')

      if (!s.capabilities.backups.supported) {
        expect(step(update, 'backup')).toMatchObject({ status: 'skipped', log: [expect.any(String)] })
        expect(update.backup ?? null).toBeNull()
        expect(s.capabilities.dataRestore).toBe(false)
        const refused = await s.client.request('POST', '/v1/jobs', s.request(harness.installed, { kind: 'rollback', restoreBackupJobId: update.id }))
        expect(refused).toEqual({ status: 400, body: { error: 'this updater\'s driver cannot restore data backups' } })
        return
      }

      expect(step(update, 'backup').status).toBe('succeeded')
      expect(update.backup).toMatchObject({ path: expect.any(String), sizeBytes: expect.any(Number) })
      expect(s.capabilities.dataRestore).toBe(true)
      // The new version changes the data after its backup was taken.
      await s.data!.write('changed-by-the-new-version')
      const rollback = await submit(s, harness.installed, { kind: 'rollback', restoreBackupJobId: update.id })
      expect(rollback.status, JSON.stringify(rollback.steps.filter(st => st.error))).toBe('succeeded')
      expect(await s.running()).toBe(harness.installed)
      expect(await s.data!.read()).toBe('written-before-the-update')
    })
  })
}
