import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Native kernels use the process-wide thread pool; forks keep each test file in its own process.
    pool: 'forks',
    reporters: ['default', './test/helpers/summary-reporter.mts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
