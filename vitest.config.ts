import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    exclude: ['tests/e2e/**', 'node_modules/**'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Integration suites start real servers on fixed loopback ports: one file at a time.
    fileParallelism: false,
    pool: 'forks',
    globalSetup: ['tests/setup/tmpdir.ts'],
  },
})
