/**
 * Every driver, registered under its name (`DRIVER_NAMES` in shared/schemas/common.ts, which
 * OWLAT_DRIVER is checked against): adding one means writing it and adding it here.
 */
import type { OwlatConfig } from '../../shared/config'
import type { DriverName } from '../../shared/schemas/common'
import { ComposeDriver } from './compose'
import { LocalDriver } from './local'
import type { Driver } from './types'

export interface DriverDeps {
  config: OwlatConfig
  /** The web's server entry (drivers that run the web as a process). */
  webEntry: string
  log: (line: string) => void
}

const registry: Record<DriverName, (deps: DriverDeps) => Driver> = {
  local: ({ config, webEntry, log }) => new LocalDriver(config, { webEntry, log }),
  compose: ({ config, log }) => new ComposeDriver(config, { log }),
}

export function createDriver(name: DriverName, deps: DriverDeps): Driver {
  return registry[name](deps)
}
