import { defineConfig } from 'vitest/config';

/**
 * Browser tests: Debian's chromium driven by playwright-core against a real mesh and gateway.
 * One file at a time: each starts nats-server, the services and a browser.
 */
export default defineConfig({
  test: {
    include: ['tests/browser/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 1,
    fileParallelism: false,
  },
});
