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

/**
 * What identifies the web's build: OWLAT_BUILD_ID (set by the image build), else the commit the
 * app was built from (`owlatSystem.build`, read at build time), else Nuxt's random build id. One
 * build can serve several versions (the demo runs one build for all), so the page shows the
 * image digest next to it where the updater knows it.
 */
export function currentBuildId(): string {
  const config = useRuntimeConfig()
  return process.env.OWLAT_BUILD_ID?.trim() || config.owlatSystem.build || config.app.buildId
}
