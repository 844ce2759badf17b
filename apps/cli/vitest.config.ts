import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    // Bounds, not waits: the streaming tests move 160 MiB through loopback, and this machine's two cores are
    // shared by the whole team (load averages of 15 seen while they ran), where vitest's 5 s default is too
    // tight for a run that normally takes ~1 s.
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
