/**
 * The end-to-end spec against the production stack (tests/e2e-stack): this repository's images,
 * installed by deploy/install.sh with the stand-ins override (tests/docker/production.ts), instead
 * of `npm start`'s local stack. `npm test` runs it after playwright.config.ts; it needs the Docker
 * set-up (OWLAT_SKIP_DOCKER=1 skips it).
 */
import { e2eConfig } from './tests/e2e/playwright-base'
import { STACK_BASE_URL } from './tests/e2e-stack/env'

export default e2eConfig({
  testDir: 'tests/e2e-stack',
  outputDir: 'test-results/stack',
  baseURL: STACK_BASE_URL,
  globalSetup: './tests/e2e-stack/global-setup.ts',
})
