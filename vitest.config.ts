import { defineConfig } from 'vitest/config';

/**
 * Two groups, one after the other: unit and integration tests in parallel, then the browser
 * tests one file at a time (each starts two or three Chromiums and a media worker: on two cores,
 * two such files at once would measure the machine, not the product).
 */
export default defineConfig({
  test: {
    globalSetup: ['test/global-setup.ts'],
    reporters: ['default', './test/summary-reporter.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    projects: [
      {
        extends: true,
        test: { name: 'fast', include: ['test/unit/**/*.test.ts', 'test/integration/**/*.test.ts'], maxWorkers: 2, sequence: { groupOrder: 0 } },
      },
      {
        extends: true,
        test: { name: 'browser', include: ['test/e2e/**/*.test.ts'], fileParallelism: false, sequence: { groupOrder: 1 } },
      },
    ],
  },
});
