/**
 * The web's store opened outside the web (the CLI's password reset, the launcher), chosen the way
 * the web chooses it (server/utils/context.ts): Convex when OWLAT_CONVEX_URL and
 * OWLAT_CONVEX_ADMIN_KEY are set, else the SQLite file in the data dir, which must exist already
 * (nothing is created for a web that never ran here). Framework-independent.
 */
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import type { OwlatConfig } from '../../../shared/config'
import { convexHttpCaller, createConvexStore, DEFAULT_CONVEX_MODULE } from './convex'
import { openSqliteStore } from './sqlite'
import type { SystemStore } from './types'

export interface OpenedStore {
  store: SystemStore
  /** Where it is, for messages: the SQLite file or the Convex URL. */
  where: string
}

/** Null when there is no store here to open (no Convex settings, no SQLite file in the data dir). */
export function openWebStore(config: OwlatConfig, env: NodeJS.ProcessEnv = process.env): OpenedStore | null {
  if (config.convex) {
    const module = env.NUXT_OWLAT_SYSTEM_CONVEX_MODULE?.trim() || DEFAULT_CONVEX_MODULE
    return { store: createConvexStore(convexHttpCaller({ ...config.convex, module })), where: `Convex at ${config.convex.url}` }
  }
  const file = join(config.dataDir, 'web.sqlite')
  if (!existsSync(file)) return null
  return { store: openSqliteStore(file), where: file }
}
