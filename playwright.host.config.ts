import { e2eConfig, launcher } from './tests/e2e/playwright-base'
import { BASE_URL, DATA_DIR, HOST_ENTRY, SMTP_PORT, UPDATER_PORT, WEB_PORT } from './tests/e2e-host/env'

// The fixture host app (tests/fixtures/host), which adds the module to a layout, navigation and
// sign-in of its own. The real launcher runs it: the updater's local driver supervises the host's
// built server (OWLAT_WEB_ENTRY) on the demo releases, so an update restarts the host app.
export default e2eConfig({
  testDir: 'tests/e2e-host',
  outputDir: 'test-results/host',
  baseURL: BASE_URL,
  webServer: launcher('tests/e2e-host/prepare.ts', BASE_URL, 300_000, {
    OWLAT_DATA_DIR: DATA_DIR,
    OWLAT_WEB_ENTRY: HOST_ENTRY,
    PORT: String(WEB_PORT),
    OWLAT_UPDATER_PORT: String(UPDATER_PORT),
    OWLAT_VERIFY_TIMEOUT_MS: '8000',
    OWLAT_WATCH_MS: '1000',
    // The host's owners are mailed through its admin directory (the spec runs the sink).
    OWLAT_SMTP_URL: `smtp://127.0.0.1:${SMTP_PORT}`,
  }),
})
