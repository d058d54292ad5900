// @ts-check
import withNuxt from './.nuxt/eslint.config.mjs'

export default withNuxt(
  {
    ignores: ['.data/**', '.output/**', '**/.output/**', 'test-results/**', 'playwright-report/**'],
  },
  {
    // The standalone app and the fixture host are Nuxt apps of their own: their pages and layouts
    // are named by route and role, as the rule already allows in the module's own app/ folders.
    files: ['playground/app/{pages,layouts}/**/*.vue', 'tests/fixtures/host/app/{pages,layouts}/**/*.vue', 'tests/nuxt/pages/**/*.vue'],
    rules: { 'vue/multi-word-component-names': 'off' },
  },
)
