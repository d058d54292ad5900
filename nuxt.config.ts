/**
 * The System & Updates module, a Nuxt layer: an admin panel adds it with `extends` and configures
 * it under `owlatSystem` (modules/owlat-system.ts). It brings its pages, components, composables,
 * server routes and tasks, and nothing that would land in the app around it: no app.vue, layout,
 * sign-in or global CSS. The standalone app (playground/) extends it exactly as a host does.
 */
export default defineNuxtConfig({
  modules: ['@nuxt/ui', '@pinia/nuxt', '@vueuse/nuxt'],

  // Gives the layer the alias `#layers/owlat-system/`: `#shared` and `~` would point into the host.
  $meta: { name: 'owlat-system' },

  // The module mounts its page itself (extendPages), so the app routes whether or not it has pages.
  pages: true,

  devtools: { enabled: false },

  // Defaults an app may override. Nothing is fetched at build or run time: no web fonts, and the
  // icons the module uses bundled from @iconify-json/lucide.
  ui: { fonts: false },

  compatibilityDate: '2025-07-15',

  typescript: { strict: true },
  telemetry: false,

  icon: {
    provider: 'none',
    fallbackToApi: false,
    serverBundle: { collections: ['lucide'] },
    clientBundle: { scan: true, sizeLimitKb: 512 },
  },
})
