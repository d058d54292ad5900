// @ts-check
import withNuxt from './.nuxt/eslint.config.mjs'

export default withNuxt({
  ignores: ['.data/**', '.output/**', 'test-results/**', 'playwright-report/**'],
})
