/**
 * The web's own store for the commands that write it directly (`owlat admin`, `owlat config`):
 * the SQLite file in OWLAT_DATA_DIR, or Convex with OWLAT_CONVEX_URL and OWLAT_CONVEX_ADMIN_KEY,
 * so they work while the web is down too.
 */
import { openWebStore } from '../server/utils/store/open'
import { commandEnv } from './context'
import { CliError } from './errors'

export function openCliWebStore(): NonNullable<ReturnType<typeof openWebStore>> {
  const { config, env } = commandEnv()
  const opened = openWebStore(config, env)
  if (!opened) {
    throw new CliError(`no web store in ${config.dataDir}: set OWLAT_DATA_DIR to the web's data dir (npm start: .data), or OWLAT_CONVEX_URL and OWLAT_CONVEX_ADMIN_KEY for Convex`)
  }
  return opened
}
