import { configDefaults, defineConfig } from 'vitest/config';

/**
 * Test files that replace a server module with vi.mock (a deviant decoder, a deviant page): a mock
 * applies only where the module is loaded after it, so these run with a module cache of their own.
 */
const mockingFiles = ['simulator/span-reader.sim.test.ts', 'simulator/faults/disk-misdirected-write.test.ts'];

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Two workers even on a 2-core box (vitest's default there is one): most integration files wait on
    // real sockets, child servers and settle windows rather than burn CPU.
    maxWorkers: 2,
    // Tests in a describe.concurrent (the live bug hunts, the live gate) share one worker's event loop.
    maxConcurrency: 3,
    reporters: ['default'],
    projects: [
      {
        extends: true,
        test: {
          name: 'shared',
          include: ['**/*.test.ts'],
          // Stryker's sandboxes (`npm run mutation`) hold a copy of every test file while they run.
          exclude: [...configDefaults.exclude, 'node_modules/**', '.stryker-tmp/**', ...mockingFiles],
          // A worker process keeps its module cache from one test file to the next instead of loading
          // every file's import graph again through tsx: the suite took 493 s instead of 572 s on an idle
          // box here (2026-12-01; imports 15 s instead of 68 s). The tests keep no global state between
          // files: fake timers are restored after each test, registries are per instance, and the files
          // that vi.mock a server module run in the `isolated` project.
          isolate: false,
        },
      },
      {
        extends: true,
        test: {
          name: 'isolated',
          include: mockingFiles,
          exclude: [...configDefaults.exclude, '.stryker-tmp/**'],
          isolate: true,
        },
      },
    ],
  },
});
