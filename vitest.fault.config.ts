import { defineConfig } from 'vitest/config';

/**
 * Fault tests: every service runs as a real child process next to real nats-server processes, and
 * the tests SIGKILL, SIGSTOP and SIGTERM them. One file at a time: each starts several processes,
 * and the machine has two cores.
 */
export default defineConfig({
  test: {
    include: ['tests/fault/**/*.test.ts'],
    testTimeout: 180_000,
    hookTimeout: 120_000,
    pool: 'forks',
    maxWorkers: 1,
    fileParallelism: false,
    // Node 20 has a WebSocket client only behind this flag; the gateway tests use it as clients.
    execArgv: ['--experimental-websocket'],
  },
});
