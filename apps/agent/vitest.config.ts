import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    // Bounds, not waits: the smoke tests load TF.js + wasm and run a MobileNet, on two cores shared by the team.
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
