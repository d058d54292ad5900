/**
 * Every driver, registered under its name (`DRIVER_NAMES` in shared/schemas/common.ts, which
 * OWLAT_DRIVER is checked against): adding one means writing it and adding it here.
 */
import type { OwlatConfig } from '../../shared/config'
import type { DriverName } from '../../shared/schemas/common'
import type { Driver } from './types'

export interface DriverDeps {
  config: OwlatConfig
  /** The web's server entry (drivers that run the web as a process). */
  webEntry: string
  log: (line: string) => void
}

/**
 * Each driver's code runs only when it is chosen: an updater on another driver does not start
 * the compose driver's Docker client (dockerode and what it pulls in; ~3 MB resident in the
 * bundle, ~30 MB loaded from node_modules as tsx does).
 */
const registry: Record<DriverName, (deps: DriverDeps) => Promise<Driver>> = {
  local: async ({ config, webEntry, log }) => new (await import('./local')).LocalDriver(config, { webEntry, log }),
  compose: async ({ config, log }) => new (await import('./compose')).ComposeDriver(config, { log }),
  swarm: async ({ config, log }) => new (await import('./swarm')).SwarmDriver(config, { log }),
}

export function createDriver(name: DriverName, deps: DriverDeps): Promise<Driver> {
  return registry[name](deps)
}
