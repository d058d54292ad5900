/**
 * The module's Nuxt side, for whichever app extends the layer (a host admin panel, or the
 * standalone app in playground/): options under `owlatSystem` in the app's nuxt.config, the
 * System & Updates pages mounted at `owlatSystem.path`, the runtime config the page and the
 * server read, and the scheduled release check. Nuxt registers it from the layer's `modules/`.
 */
import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { extendPages, installModule, defineNuxtModule } from 'nuxt/kit'
import { z } from 'zod'

export interface ModuleOptions {
  /** Where the System & Updates page is mounted; a run's detail page is `<path>/runs/<id>`. */
  path: string
  /**
   * Where signed-out visitors are sent: the app's sign-in page (a path, or an absolute URL for a
   * sign-in elsewhere). The page they asked for goes along in `signInRedirectParam`.
   */
  signInPath: string
  /** The query parameter that carries the page to return to after sign-in; empty: none. */
  signInRedirectParam: string
  /** The module of the app's Convex functions that exposes the component (`convex/<name>.ts`). */
  convexModule: string
}

const optionsSchema = z.object({
  path: z.string().regex(/^\/[\w\-/]*[\w-]$/, 'owlatSystem.path must be a path like /settings/system (no trailing slash, no parameters)'),
  signInPath: z.string().refine(p => /^\/(?!\/)/.test(p) || /^https?:\/\//.test(p), 'owlatSystem.signInPath must be a path (/login) or an http(s) URL'),
  signInRedirectParam: z.string().regex(/^\w*$/, 'owlatSystem.signInRedirectParam must be a query parameter name'),
  convexModule: z.string().regex(/^[A-Za-z_]\w*$/, 'owlatSystem.convexModule must be a Convex module name like owlatSystem'),
})

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url))

/** The commit the app is built from (`git describe --always --dirty`); empty outside a git checkout. */
function buildCommit(dir: string): string {
  try {
    return execFileSync('git', ['describe', '--always', '--dirty', '--abbrev=12'], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 }).trim()
  }
  catch {
    return ''
  }
}
const MODULE_ROOT = here('..')

export default defineNuxtModule<ModuleOptions>({
  meta: { name: 'owlat-system', configKey: 'owlatSystem' },
  defaults: {
    path: '/settings/system',
    signInPath: '/login',
    signInRedirectParam: 'redirect',
    convexModule: 'owlatSystem',
  },
  async setup(input, nuxt) {
    const parsed = optionsSchema.safeParse(input)
    if (!parsed.success) throw new Error(`invalid owlatSystem options: ${parsed.error.issues.map(i => i.message).join('; ')}`)
    const options = parsed.data

    // Not app/pages/: Nuxt would mount those at fixed paths in every app.
    extendPages((pages) => {
      pages.push(
        { name: 'owlat-system', path: options.path, file: here('../app/system-pages/SystemPage.vue') },
        { name: 'owlat-system-run', path: `${options.path}/runs/:id`, file: here('../app/system-pages/SystemRunPage.vue') },
      )
    })

    // What may differ per deployment is runtime config (NUXT_PUBLIC_OWLAT_SYSTEM_SIGN_IN_PATH,
    // NUXT_OWLAT_SYSTEM_CONVEX_MODULE…); the page path is fixed by the build.
    const { runtimeConfig } = nuxt.options
    const publicDefaults = { path: options.path, signInPath: options.signInPath, signInRedirectParam: options.signInRedirectParam }
    runtimeConfig.public.owlatSystem = { ...publicDefaults, ...runtimeConfig.public.owlatSystem }
    // The build's identity, read once at build time (OWLAT_BUILD_ID overrides it at run time).
    const serverDefaults = { convexModule: options.convexModule, build: nuxt.options.dev ? '' : buildCommit(nuxt.options.rootDir) }
    runtimeConfig.owlatSystem = { ...serverDefaults, ...runtimeConfig.owlatSystem }

    nuxt.hook('nitro:config', (nitro) => {
      // This Nuxt's schema types only a fallback subset of Nitro's options.
      const config = nitro as { experimental?: Record<string, unknown>, scheduledTasks?: Record<string, string | string[]>, compressPublicAssets?: unknown }
      config.experimental = { ...config.experimental, tasks: true }
      // The page's JS and CSS are served precompressed (brotli or gzip, as Accept-Encoding asks);
      // what the server renders or answers is compressed per response (server/plugins/compress-responses.ts).
      config.compressPublicAssets ??= { gzip: true, brotli: true }
      // A tick, not the check rate: the task asks the source only when the configured interval
      // (6 h by default, OWLAT_RELEASE_CHECK_INTERVAL_MS) is due, which cron cannot express at run time.
      const tick = '*/10 * * * *'
      const atTick = config.scheduledTasks?.[tick] ?? []
      config.scheduledTasks = { ...config.scheduledTasks, [tick]: [...(Array.isArray(atTick) ? atTick : [atTick]), 'releases:check'] }
    })

    // This repository's own lint set-up, only where the module itself is the app (lint, typecheck,
    // component tests): an app that extends the layer does not get a development tool from it.
    if (nuxt.options.rootDir.replace(/\/$/, '') === MODULE_ROOT.replace(/\/$/, '')) {
      await installModule('@nuxt/eslint', { config: { stylistic: true } })
    }
  },
})
