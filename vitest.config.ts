import { defineConfig } from 'vitest/config';

/** The suites that run against both stores: lowdb (the default) and PostgreSQL. */
const BOTH_STORES = ['test/server/**/*.test.ts', 'test/conformance/**/*.test.ts'];

/**
 * Tests of the lowdb store's own files (its document, journals, history files, crash recovery) and
 * of the command line finding a data directory's files: their PostgreSQL counterparts are in
 * `test/postgres/` (restart, schema, shared secrets, one audit chain) and `test/fleet/` (the
 * command line's `audit verify` on a replica).
 */
const LOWDB_ONLY = [
  'test/server/store.test.ts',
  'test/server/crash.test.ts',
  'test/server/restart.test.ts',
  'test/server/retention.test.ts',
  'test/server/cli.test.ts',
];

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
