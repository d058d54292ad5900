import { e2eConfig, launcher } from './tests/e2e/playwright-base'
import { ADMIN, BASE_URL, DATA_DIR, UPDATER_PORT, WEB_PORT } from './tests/e2e/env'

// The standalone app (`npm start`); playwright.host.config.ts runs the fixture host app.
export default e2eConfig({
  testDir: 'tests/e2e',
  outputDir: 'test-results',
  baseURL: BASE_URL,
  globalSetup: './tests/e2e/global-setup.ts',
  webServer: launcher('tests/e2e/reset-data.ts', BASE_URL, 180_000, {
    OWLAT_DATA_DIR: DATA_DIR,
    PORT: String(WEB_PORT),
    OWLAT_UPDATER_PORT: String(UPDATER_PORT),
    OWLAT_ADMIN_EMAIL: ADMIN.email,
    OWLAT_ADMIN_PASSWORD: ADMIN.password,
    OWLAT_VERIFY_TIMEOUT_MS: '20000',
    // Long enough for the page to count it down, short enough for the suite.
    OWLAT_WATCH_MS: '3000',
  }),
})
