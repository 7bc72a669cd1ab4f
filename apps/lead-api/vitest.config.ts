import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    globalSetup: ['./test/support/global-setup.ts'],
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Each file gets its own database cloned from a migrated template, so files run in parallel.
    pool: 'forks',
    // Services the tests spawn count rate limits under a prefix of this run's own, so that with
    // REDIS_URL set, earlier runs' counts in the shared Redis cannot refuse this run's creates.
    env: { RATE_LIMIT_KEY_PREFIX: `lead-test-run-${process.pid}-${Date.now()}` },
  },
});
