import { loadConfig, type Config } from '@tabmesh/runtime';

/** Configuration for a test mesh: sim provider, fast retries, quiet logs; override what a test needs. */
export function testConfig(natsUrl: string, env: Record<string, string> = {}): Config {
  return loadConfig({
    NATS_URL: natsUrl,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    TABMESH_PROVIDER: 'sim',
    TABMESH_SIM_PROVISION_MS: '50',
    TABMESH_SIM_SESSION_MS: '20',
    TABMESH_ACK_WAIT_MS: '3000',
    TABMESH_RETRY_BASE_MS: '50',
    TABMESH_SWEEP_INTERVAL_MS: '500',
    TABMESH_SWEEP_AFTER_MS: '2000',
    TABMESH_DRAIN_TIMEOUT_MS: '2000',
    GATEWAY_HTTP_PORT: '0',
    GATEWAY_WS_PORT: '0',
    GATEWAY_HOST: '127.0.0.1',
    // Several services per machine: each one's ops listener on a free port.
    TABMESH_OPS_PORT: '0',
    ...env,
  });
}
