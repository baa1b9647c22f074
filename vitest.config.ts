import { defineConfig } from 'vitest/config';

// Node-RED's modules are singletons: every test file runs in its own process,
// so each file may embed at most one Node-RED.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    isolate: true,
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
