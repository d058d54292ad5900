/** The browser both end-to-end suites run in: Debian's Chromium, headless. */
import type { LaunchOptions } from '@playwright/test'

export const chromium: LaunchOptions = {
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
}
