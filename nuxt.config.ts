import { fileURLToPath } from 'node:url'

// Paths relative to this file so the module also works as a layer a host app `extends`.
const here = (p: string) => fileURLToPath(new URL(p, import.meta.url))

export default defineNuxtConfig({
  modules: ['@nuxt/ui', '@pinia/nuxt', '@vueuse/nuxt', 'nuxt-auth-utils', '@nuxt/eslint'],

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
        // A tick, not the check rate: the task asks the source only when the configured interval
        // (6 h by default, OWLAT_RELEASE_CHECK_INTERVAL_MS) is due, which cron cannot express at run time.
        scheduledTasks: { '*/10 * * * *': ['releases:check'] },
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
