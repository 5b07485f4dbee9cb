import { defineConfig } from 'vitest/config';

/**
 * Deploy tests: the images are built and the compose deployment runs for real (Docker needed:
 * `dockerd` running, `docker-compose` 1.29 or `docker compose`). One file at a time: they share the
 * one deployment of project `tabmesh` (fixed container names nats-1..nats-3 and gateway).
 */
export default defineConfig({
  test: {
    include: ['tests/deploy/compose*.test.ts'],
    // Building the base image from Debian packages alone takes a minute or two on a cold machine.
    testTimeout: 300_000,
    hookTimeout: 600_000,
    pool: 'forks',
    maxWorkers: 1,
    fileParallelism: false,
  },
});
