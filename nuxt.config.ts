import { fileURLToPath } from 'node:url'

// Paths relative to this file so the module also works as a layer a host app `extends`.
const here = (p: string) => fileURLToPath(new URL(p, import.meta.url))

export default defineNuxtConfig({
  modules: ['@nuxt/ui', '@pinia/nuxt', 'nuxt-auth-utils', '@nuxt/eslint'],

  components: [{ path: here('./components'), pathPrefix: false }],
  imports: { dirs: [here('./composables')] },

  devtools: { enabled: false },

  css: [here('./app/assets/css/main.css')],

  // Nothing may be fetched at build or run time: no web fonts, icons bundled from @iconify-json/lucide.
  ui: { fonts: false },

  runtimeConfig: {
    // Filled from the environment by the sidecar (NUXT_SESSION_PASSWORD, OWLAT_*).
    session: { password: '', name: 'owlat-session', maxAge: 60 * 60 * 12 },
  },

  compatibilityDate: '2025-07-15',

  typescript: { strict: true },
  telemetry: false,

  hooks: {
    // This Nuxt's schema types only a fallback subset of Nitro's options, so tasks are enabled here.
    'nitro:config'(nitro) {
      Object.assign(nitro, {
        experimental: { ...nitro.experimental, tasks: true },
        // The release check runs every 6 hours (DESIGN.md, release tracking).
        scheduledTasks: { '0 */6 * * *': ['releases:check'] },
      })
    },
  },

  eslint: {
    config: { stylistic: true },
  },
  icon: {
    provider: 'none',
    fallbackToApi: false,
    serverBundle: { collections: ['lucide'] },
    clientBundle: { scan: true, sizeLimitKb: 512 },
  },
})
