import { defineVitestProject } from '@nuxt/test-utils/config'
import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Integration suites start real servers and share the machine's CPUs: one file at a time.
    fileParallelism: false,
    pool: 'forks',
    globalSetup: ['tests/setup/tmpdir.ts'],
    projects: [
      {
        extends: true,
        test: {
          name: 'node',
          include: ['tests/**/*.test.ts'],
          exclude: ['tests/e2e/**', 'tests/nuxt/**', 'node_modules/**'],
        },
      },
      // Components and composables in a Nuxt runtime (happy-dom), as nuxt.com tests its own.
      await defineVitestProject({
        test: {
          name: 'nuxt',
          include: ['tests/nuxt/**/*.test.ts'],
          testTimeout: 30_000,
          environment: 'nuxt',
          environmentOptions: {
            nuxt: {
              domEnvironment: 'happy-dom',
              // The test app (the module on its own) starts at `/`, where the module mounts nothing:
              // it gets a blank page there from tests/nuxt/pages.
              overrides: { dir: { pages: '../tests/nuxt/pages' } },
            },
          },
        },
      }),
    ],
  },
})
