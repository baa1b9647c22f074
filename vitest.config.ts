import { defineConfig } from 'vitest/config';

/** The suites that run against both stores: lowdb (the default) and PostgreSQL. */
const BOTH_STORES = ['test/server/**/*.test.ts', 'test/conformance/**/*.test.ts'];

/** Tests of the lowdb store's own files (its document, journals and crash recovery). */
const LOWDB_ONLY = ['test/server/store.test.ts', 'test/server/crash.test.ts'];

// Node-RED's modules are singletons: every test file runs in its own process,
// so each file may embed at most one Node-RED.
export default defineConfig({
  test: {
    pool: 'forks',
    isolate: true,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    projects: [
      {
        extends: true,
        test: {
          name: 'lowdb',
          include: ['test/**/*.test.ts'],
          exclude: ['test/fleet/**', 'test/postgres/**'],
        },
      },
      {
        extends: true,
        test: {
          name: 'postgres',
          include: [...BOTH_STORES, 'test/fleet/**/*.test.ts', 'test/postgres/**/*.test.ts'],
          exclude: LOWDB_ONLY,
          env: { COUNTERSIGN_TEST_STORE: 'postgres' },
          globalSetup: ['test/helpers/postgres-setup.ts'],
        },
      },
    ],
  },
});
