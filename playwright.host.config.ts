import { defineConfig } from '@playwright/test'
import { chromium } from './tests/e2e/browser'
import { BASE_URL, DATA_DIR, HOST_ENTRY, UPDATER_PORT, WEB_PORT } from './tests/e2e-host/env'

// The fixture host app (tests/fixtures/host), which adds the module to a layout, navigation and
// sign-in of its own. The real launcher runs it: the updater's local driver supervises the host's
// built server (OWLAT_WEB_ENTRY) on the demo releases, so an update restarts the host app.
export default defineConfig({
  testDir: 'tests/e2e-host',
  testMatch: '*.spec.ts',
  workers: 1,
  fullyParallel: false,
  retries: 0,
  forbidOnly: !!process.env.CI,
  timeout: 60_000,
  expect: { timeout: 15_000 },
  reporter: [['list']],
  outputDir: 'test-results/host',
  use: {
    baseURL: BASE_URL,
    browserName: 'chromium',
    launchOptions: chromium,
    trace: 'retain-on-failure',
    actionTimeout: 15_000,
  },
  webServer: {
    command: 'node --import tsx tests/e2e-host/prepare.ts && node --import tsx scripts/start.ts',
    url: `${BASE_URL}/api/healthz`,
    reuseExistingServer: false,
    timeout: 300_000,
    stdout: 'pipe',
    stderr: 'pipe',
    gracefulShutdown: { signal: 'SIGTERM', timeout: 15_000 },
    env: {
      OWLAT_DATA_DIR: DATA_DIR,
      OWLAT_WEB_ENTRY: HOST_ENTRY,
      PORT: String(WEB_PORT),
      OWLAT_UPDATER_PORT: String(UPDATER_PORT),
      OWLAT_VERIFY_TIMEOUT_MS: '8000',
    },
  },
})
