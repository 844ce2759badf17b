import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    // PGlite's first start (initdb) takes ~3 s alone and longer when the machine is busy.
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
