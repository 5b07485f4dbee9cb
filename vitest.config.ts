import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['libs/**/*.test.ts', 'services/**/*.test.ts', 'tests/**/*.test.ts', 'bench/test/**/*.test.ts'],
    exclude: ['**/node_modules/**', 'tests/fault/**', 'tests/browser/**', 'tests/deploy/compose*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Two cores: files that each start nats-server and a mesh run two at a time.
    maxWorkers: 2,
  },
});
