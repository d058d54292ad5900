/**
 * The standalone app `npm start` serves: the System & Updates module with a sign-in, users and a
 * layout of its own, extending the module exactly as a host admin panel does. Its build goes to
 * the repository's `.output/` (the web entry the updater's local driver runs by default).
 */
export default defineNuxtConfig({
  extends: ['..'],

  modules: ['nuxt-auth-utils'],

  css: ['~/assets/css/main.css'],

  runtimeConfig: {
    // Filled from the environment by the sidecar (NUXT_SESSION_PASSWORD).
    session: { password: '', name: 'owlat-session', maxAge: 60 * 60 * 12 },
  },

  compatibilityDate: '2025-07-15',

  nitro: {
    output: { dir: '../.output' },
  },

  owlatSystem: {
    path: '/settings/system',
    signInPath: '/login',
  },
})
