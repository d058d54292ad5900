/** The Owlat configuration and the running version as the web sees them. */
import { loadConfig, type OwlatConfig } from '#layers/owlat-system/shared/config'
// The module's own version: `~~` would be the app's root.
import pkg from '#layers/owlat-system/package.json'

let cached: OwlatConfig | undefined

/** Parsed once: the environment does not change under a running process. */
export function useOwlatConfig(): OwlatConfig {
  cached ??= loadConfig(process.env)
  return cached
}

/** The sidecar starts the web with OWLAT_VERSION = the installed version; dev runs fall back to package.json. */
export function currentVersion(): string {
  return process.env.OWLAT_VERSION?.trim() || pkg.version
}

export function currentBuildId(): string {
  return useRuntimeConfig().app.buildId
}
