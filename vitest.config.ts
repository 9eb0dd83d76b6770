import { defineConfig } from 'vitest/config';

// Forks, at most 2 at a time (or TICKVAULT_TEST_MAX_FORKS): the project's machines have 2 cores,
// and embedded PGlite tests need ~3 s to start and a lot of memory each.
const maxForks = Math.max(1, Number(process.env.TICKVAULT_TEST_MAX_FORKS) || 2);

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Starts one throwaway PostgreSQL + TimescaleDB cluster; tests get its URL via inject('serverUrl').
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    teardownTimeout: 30_000,
    pool: 'forks',
    poolOptions: {
      forks: { minForks: 1, maxForks },
    },
  },
});
