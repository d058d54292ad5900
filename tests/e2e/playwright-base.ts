/**
 * What the three Playwright configs share (standalone app, fixture host app, production stack):
 * Debian's Chromium, headless; one instance with one state, so specs run one after the other in
 * file order; long waits explicit (a run takes minutes) and a missing element failing fast.
 */
import { defineConfig, type LaunchOptions, type PlaywrightTestConfig } from '@playwright/test'

export const chromium: LaunchOptions = {
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
}

interface SuiteOptions {
  testDir: string
  outputDir: string
  baseURL: string
  globalSetup?: string
  webServer?: PlaywrightTestConfig['webServer']
}

export function e2eConfig({ testDir, outputDir, baseURL, globalSetup, webServer }: SuiteOptions) {
  return defineConfig({
    testDir,
    testMatch: '*.spec.ts',
    workers: 1,
    fullyParallel: false,
    retries: 0,
    forbidOnly: !!process.env.CI,
    timeout: 60_000,
    expect: { timeout: 15_000 },
    reporter: [['list']],
    outputDir,
    globalSetup,
    use: {
      baseURL,
      browserName: 'chromium',
      launchOptions: chromium,
      trace: 'retain-on-failure',
      actionTimeout: 15_000,
    },
    webServer,
  })
}

/** `npm start`'s real launcher, after `prepare` (a script that makes the suite's fresh data dir). */
export function launcher(prepare: string, baseURL: string, timeout: number, env: Record<string, string>): PlaywrightTestConfig['webServer'] {
  return {
    // Playwright starts this before globalSetup, so the fresh data dir is made here.
    command: `node --import tsx ${prepare} && node --import tsx scripts/start.ts`,
    url: `${baseURL}/api/healthz`,
    reuseExistingServer: false,
    timeout,
    stdout: 'pipe',
    stderr: 'pipe',
    gracefulShutdown: { signal: 'SIGTERM', timeout: 15_000 },
    env,
  }
}
