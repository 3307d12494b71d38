import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    // Stryker's sandboxes (`npm run mutation`) hold a copy of every test file while they run.
    exclude: ['node_modules/**', '.stryker-tmp/**'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Two workers even on a 2-core box (vitest's default there is one): most integration files wait on
    // real sockets, child servers and settle windows rather than burn CPU.
    maxWorkers: 2,
    // Tests in a describe.concurrent (the live bug hunts, the live gate) share one worker's event loop.
    maxConcurrency: 3,
    reporters: ['default'],
  },
});
