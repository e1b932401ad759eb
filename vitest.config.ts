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
        test: {
          name: 'fast', include: ['test/unit/**/*.test.ts', 'test/integration/**/*.test.ts'],
          // PostgreSQL's own tests need the postgres project's cluster.
          exclude: ['test/integration/store/**'], maxWorkers: 2, sequence: { groupOrder: 0 },
        },
      },
      {
        // The store and HTTP API tests again, on PostgreSQL (one cluster, a database per server).
        // Left out: what is about SQLite itself (its file, its upgrade fixture, the operator's
        // commands on the file) and the first start as a process, which the SQLite run covers.
        extends: true,
        test: {
          name: 'postgres',
          include: [
            'test/unit/store/**/*.test.ts', 'test/unit/tenancy/core.test.ts', 'test/unit/staff/local.test.ts',
            'test/integration/{http,tenancy,admin,staff,auth,store}/**/*.test.ts',
            'test/integration/sms/*delivery*.test.ts',
          ],
          exclude: ['test/integration/tenancy/{upgrade,audit,cli,first-start}.test.ts'],
          globalSetup: ['test/postgres-setup.ts'],
          env: { OPENCONSULT_TEST_STORE: 'postgres' },
          maxWorkers: 2,
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: { name: 'browser', include: ['test/e2e/**/*.test.ts'], fileParallelism: false, sequence: { groupOrder: 1 } },
      },
    ],
  },
});
