/**
 * The end-to-end spec against the production stack (tests/e2e-stack): this repository's images,
 * installed by deploy/install.sh with the stand-ins override (tests/docker/production.ts), instead
 * of `npm start`'s local stack. `npm test` runs it after playwright.config.ts; it needs the Docker
 * set-up (OWLAT_SKIP_DOCKER=1 skips it).
 */
import { defineConfig } from '@playwright/test'
import { STACK_BASE_URL } from './tests/e2e-stack/env'

export default defineConfig({
  testDir: 'tests/e2e-stack',
  testMatch: '*.spec.ts',
  workers: 1,
  fullyParallel: false,
  retries: 0,
  forbidOnly: !!process.env.CI,
  timeout: 60_000,
  expect: { timeout: 15_000 },
  reporter: [['list']],
  outputDir: 'test-results/stack',
  globalSetup: './tests/e2e-stack/global-setup.ts',
  use: {
    baseURL: STACK_BASE_URL,
    browserName: 'chromium',
    launchOptions: {
      executablePath: '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    },
    trace: 'retain-on-failure',
    actionTimeout: 15_000,
  },
})
