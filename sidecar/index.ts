/**
 * The updater sidecar: journal + driver + runner behind the signed HTTP API. `npm start` calls
 * `startSidecar` in-process; `sidecar/main.ts` runs it as its own process.
 */
import { createPublicKey } from 'node:crypto'
import { rmSync } from 'node:fs'
import type { Server } from 'node:http'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { composePolicyOptionsFromEnv } from '../shared/compose-policy'
import type { OwlatConfig } from '../shared/config'
import { effectiveKeys } from '../shared/release-index'
import { Backups, backupScheduleFromEnv } from './backups'
import { createDriver } from './drivers/registry'
import type { Driver, DriverCapabilities, StepContext } from './drivers/types'
import type { Job } from '../shared/schemas/job'
import { Journal } from './journal'
import { ReleaseArchive } from './release-archive'
import { runPreflightChecks } from './preflight-checks'
import { Runner } from './runner'
import type { ServerLimits } from './http'
import { createSidecarServer } from './server'

const DEFAULT_WEB_ENTRY = fileURLToPath(new URL('../.output/server/index.mjs', import.meta.url))

export interface SidecarOptions {
  /** The web's server entry; defaults to OWLAT_WEB_ENTRY, then `<repo>/.output/server/index.mjs`. */
  webEntry?: string
  /** Where the sidecar's own log lines go; defaults to stdout. */
  log?: (line: string) => void
  /** How often journal writes refused for want of storage are retried (tests shorten it). */
  journalRetryMs?: number
  /** The API's request timeouts and connection cap; defaults to DEFAULT_LIMITS (sidecar/http.ts). */
  limits?: Partial<ServerLimits>
}

export interface SidecarHandle {
  url: string
  /** What the driver it runs declares it can do. */
  capabilities: DriverCapabilities
  /** Stops the API, lets the running step reach a resumable point, stops the web. */
  close(): Promise<void>
}

/** After a job committed (never during one), a driver that can moves the updater itself on. */
function selfUpdateAfterCommits(driver: Driver, journal: Journal, log: (line: string) => void): () => void {
  if (!driver.capabilities.selfUpdate) return () => {}
  return journal.onEvent(({ event }) => {
    if (event.type !== 'job' || event.job.status !== 'succeeded') return
    driver.selfUpdate().then(
      line => log(`self-update after job ${event.job.id}: ${line}`),
      (err: Error) => log(`self-update after job ${event.job.id} failed: ${err.message}`),
    )
  })
}

/** Fails at start, not at the first job, when the pinned release key is unusable. */
function assertUsableReleaseKey(pem: string): void {
  let type: string | undefined
  try {
    type = createPublicKey(pem).asymmetricKeyType
  }
  catch (err) {
    throw new Error(`the release public key (OWLAT_RELEASE_PUBLIC_KEY) is not a usable PEM key: ${(err as Error).message}`, { cause: err })
  }
  if (type !== 'ed25519') throw new Error(`the release public key (OWLAT_RELEASE_PUBLIC_KEY) is ${type}, not Ed25519`)
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      reject(new Error(err.code === 'EADDRINUSE'
        ? `updater port ${host}:${port} is already in use (OWLAT_UPDATER_PORT)`
        : `cannot listen on ${host}:${port}: ${err.message}`))
    })
    server.listen(port, host, () => resolvePromise())
  })
}

export async function startSidecar(config: OwlatConfig, opts: SidecarOptions = {}): Promise<SidecarHandle> {
  const log = opts.log ?? ((line: string) => process.stdout.write(`[updater] ${line}\n`))
  const secret = config.instanceSecret()
  // Every configured key counts (OWLAT_RELEASE_PUBLIC_KEYS: rotation); each must be usable.
  const releasePublicKey = config.releasePublicKeys()
  for (const key of releasePublicKey) assertUsableReleaseKey(key)
  const webEntry = resolve(opts.webEntry ?? process.env.OWLAT_WEB_ENTRY ?? DEFAULT_WEB_ENTRY)

  const driver = await createDriver(config.driver, { config, webEntry, log })
  const installed = driver.installedVersion()
  const journal = new Journal(join(config.dataDir, 'updater', 'journal.sqlite'))
  if (!journal.installedVersion()) journal.setInstalledVersion(installed)
  // Relative bind mounts resolve against the folder the compose file is deployed in.
  const composePolicy = composePolicyOptionsFromEnv(process.env, driver.projectDir)
  // The configured keys and those a signed index announced since (rotation), minus the retired.
  const releaseKeys = () => {
    const trust = journal.releaseTrust()
    return effectiveKeys(releasePublicKey, trust.learnedKeys, trust.retiredKeys)
  }
  const archive = new ReleaseArchive(join(config.dataDir, 'updater', 'releases'), releaseKeys)
  const preflightChecks = (ctx: StepContext, job: Job) => runPreflightChecks({ driver, archive, releaseKeys, composePolicy }, ctx, job)
  const runner = new Runner({ journal, driver, log, watchMs: config.watchMs, journalRetryMs: opts.journalRetryMs, preflightChecks })
  const stopSelfUpdates = selfUpdateAfterCommits(driver, journal, log)
  const backups = new Backups({ driver, journal, log, schedule: backupScheduleFromEnv(process.env) })
  const bundles = { workDir: join(config.dataDir, 'updater', 'bundles'), maxBytes: config.bundleMaxBytes }
  // Uploads a crash left behind are never resumed.
  rmSync(bundles.workDir, { recursive: true, force: true })
  const server = createSidecarServer({ journal, runner, driver, archive, backups, secret, releasePublicKey, composePolicy, bundles, log, limits: opts.limits })

  const shutdown = async () => {
    stopSelfUpdates()
    server.close()
    server.closeAllConnections()
    await backups.close()
    await runner.close()
    await driver.stop()
    journal.close()
  }

  try {
    await driver.start()
    // Before the resume: rehearsals the journal still calls active are torn down by the runner, with a record.
    const active = journal.activeJobs().filter(job => job.kind === 'rehearsal').map(job => job.id)
    for (const line of await driver.rehearsal.sweep(active)) log(`rehearsal leftovers: ${line}`)
    runner.resumeInterrupted()
    backups.startSchedule()
    await listen(server, config.updaterHost, config.updaterPort)
  }
  catch (err) {
    await shutdown()
    throw err
  }
  const url = `http://${config.updaterHost}:${config.updaterPort}`
  log(`listening on ${url} (driver ${driver.name}, installed ${journal.installedVersion()})`)

  let closing: Promise<void> | null = null
  return {
    url,
    capabilities: driver.capabilities,
    close: () => (closing ??= shutdown()),
  }
}
