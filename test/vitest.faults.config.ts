import { defineConfig } from 'vitest/config';

// The fault tests (`npm run test:faults`): they stop, kill and restart processes and services (private
// PostgreSQL and Redis instances, a tmpfs), so they run apart from `npm test`, one file at a time.
export default defineConfig({
  test: {
    include: ['src/faults/**/*.fault.ts'],
    fileParallelism: false,
    testTimeout: 300_000,
    hookTimeout: 120_000,
  },
});
