import { type Config, loadConfig } from '@tabmesh/runtime';

/**
 * The HS256 secret every test gateway verifies tokens with (tests mint theirs with `testToken`).
 * Known to every test by design; nothing outside tests uses it.
 */
export const TestJwtSecret = 'tabmesh-test-secret-0123456789abcdef';

/** What every mesh a harness starts needs: loopback listeners on ephemeral ports, so meshes never clash. */
export const loopbackEnv = (natsUrl: string): Record<string, string> => ({
  NATS_URL: natsUrl,
  GATEWAY_HOST: '127.0.0.1',
  GATEWAY_HTTP_PORT: '0',
  GATEWAY_WS_PORT: '0',
  TABMESH_OPS_PORT: '0',
  TABMESH_JWT_SECRET: TestJwtSecret,
});

/** Services in the test's own process: sim provider, fast retries, quiet logs. */
export const inProcessTestEnv = (natsUrl: string): Record<string, string> => ({
  ...loopbackEnv(natsUrl),
  LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
  TABMESH_PROVIDER: 'sim',
  TABMESH_SIM_PROVISION_MS: '50',
  TABMESH_SIM_SESSION_MS: '20',
  TABMESH_ACK_WAIT_MS: '3000',
  TABMESH_RETRY_BASE_MS: '50',
  TABMESH_SWEEP_INTERVAL_MS: '500',
  TABMESH_SWEEP_AFTER_MS: '2000',
  TABMESH_DRAIN_TIMEOUT_MS: '2000',
});

/**
 * Services as child processes (fault tests, the chaos soak): the sim provider keeps its ledger in
 * KV so sandboxes and sessions are counted across processes; short waits; info logs, which fault
 * tests read.
 */
export const processTestEnv = (natsUrl: string): Record<string, string> => ({
  ...loopbackEnv(natsUrl),
  LOG_LEVEL: 'info',
  TABMESH_PROVIDER: 'sim',
  TABMESH_SIM_LEDGER: 'nats',
  TABMESH_SIM_PROVISION_MS: '300',
  TABMESH_SIM_SESSION_MS: '100',
  TABMESH_ACK_WAIT_MS: '3000',
  TABMESH_RETRY_BASE_MS: '100',
  TABMESH_SWEEP_INTERVAL_MS: '500',
  TABMESH_SWEEP_AFTER_MS: '3000',
  TABMESH_DRAIN_TIMEOUT_MS: '3000',
});

/** The parsed configuration of an in-process test service; `env` overrides what a test needs. */
export function testConfig(natsUrl: string, env: Record<string, string> = {}): Config {
  return loadConfig({ ...inProcessTestEnv(natsUrl), ...env });
}
