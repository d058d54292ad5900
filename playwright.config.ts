import { defineConfig } from '@playwright/test'
import { chromium } from './tests/e2e/browser'
import { ADMIN, BASE_URL, DATA_DIR, UPDATER_PORT, WEB_PORT } from './tests/e2e/env'

// The standalone app (`npm start`); playwright.host.config.ts runs the fixture host app.
export default defineConfig({
  testDir: 'tests/e2e',
  testMatch: '*.spec.ts',
  // One instance with one state: specs run one after the other, in file order.
  workers: 1,
  fullyParallel: false,
  retries: 0,
  forbidOnly: !!process.env.CI,
  timeout: 60_000,
  expect: { timeout: 15_000 },
  reporter: [['list']],
  outputDir: 'test-results',
  globalSetup: './tests/e2e/global-setup.ts',
  use: {
    baseURL: BASE_URL,
    browserName: 'chromium',
    launchOptions: chromium,
    trace: 'retain-on-failure',
    // Long waits are explicit (a run takes minutes); a missing element should fail fast.
    actionTimeout: 15_000,
  },
  webServer: {
    // Playwright starts this before globalSetup, so the fresh data dir is made here.
    command: 'node --import tsx tests/e2e/reset-data.ts && node --import tsx scripts/start.ts',
    url: `${BASE_URL}/api/healthz`,
    reuseExistingServer: false,
    timeout: 180_000,
    stdout: 'pipe',
    stderr: 'pipe',
    gracefulShutdown: { signal: 'SIGTERM', timeout: 15_000 },
    env: {
      OWLAT_DATA_DIR: DATA_DIR,
      PORT: String(WEB_PORT),
      OWLAT_UPDATER_PORT: String(UPDATER_PORT),
      OWLAT_ADMIN_EMAIL: ADMIN.email,
      OWLAT_ADMIN_PASSWORD: ADMIN.password,
      OWLAT_VERIFY_TIMEOUT_MS: '20000',
    },
  },
})
