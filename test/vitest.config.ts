import { defineConfig } from 'vitest/config';

// End-to-end tests start real processes (server, workers, CLI): one file at a time on a 2-core machine.
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    fileParallelism: false,
    testTimeout: 300_000,
    hookTimeout: 120_000,
  },
});
