/**
 * The updater sidecar: journal + driver + runner behind the signed HTTP API. `npm start` calls
 * `startSidecar` in-process; `sidecar/main.ts` runs it as its own process.
 */
import { createPublicKey } from 'node:crypto'
import type { Server } from 'node:http'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { composePolicyOptionsFromEnv } from '../shared/compose-policy'
import type { OwlatConfig } from '../shared/config'
import { ComposeDriver } from './drivers/compose'
import { LocalDriver, stackPaths } from './drivers/local'
import type { Driver } from './drivers/types'
import { Journal } from './journal'
import { Runner } from './runner'
import { createSidecarServer } from './server'

const DEFAULT_WEB_ENTRY = fileURLToPath(new URL('../.output/server/index.mjs', import.meta.url))

export interface SidecarOptions {
  /** The web's server entry; defaults to OWLAT_WEB_ENTRY, then `<repo>/.output/server/index.mjs`. */
  webEntry?: string
  /** Where the sidecar's own log lines go; defaults to stdout. */
  log?: (line: string) => void
}

export interface SidecarHandle {
  url: string
  /** Stops the API, lets the running step reach a resumable point, stops the web. */
  close(): Promise<void>
}

function createDriver(config: OwlatConfig, webEntry: string, log: (line: string) => void): Driver {
  if (config.driver === 'compose') return new ComposeDriver(config, { log })
  return new LocalDriver(config, { webEntry, log })
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
  const releasePublicKey = config.releasePublicKey()
  assertUsableReleaseKey(releasePublicKey)
  const webEntry = resolve(opts.webEntry ?? process.env.OWLAT_WEB_ENTRY ?? DEFAULT_WEB_ENTRY)

  const driver = createDriver(config, webEntry, log)
  const installed = driver.installedVersion()
  const journal = new Journal(join(config.dataDir, 'updater', 'journal.sqlite'))
  if (!journal.installedVersion()) journal.setInstalledVersion(installed)
  const runner = new Runner({ journal, driver, log })
  // The updater's own image changes only once a job has committed, through a helper container.
  if (driver instanceof ComposeDriver) driver.afterCommits(journal)
  // Relative bind mounts resolve against the folder the compose file is deployed in.
  const projectDir = config.driver === 'local' ? dirname(stackPaths(config.dataDir).current) : config.owlatDir
  const composePolicy = composePolicyOptionsFromEnv(process.env, projectDir)
  const server = createSidecarServer({ journal, runner, driver, secret, releasePublicKey, composePolicy, log })

  const shutdown = async () => {
    server.close()
    server.closeAllConnections()
    await runner.close()
    await driver.stop()
    journal.close()
  }

  try {
    await driver.start()
    runner.resumeInterrupted()
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
    close: () => (closing ??= shutdown()),
  }
}
