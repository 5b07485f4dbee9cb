import type { NatsConnection } from '@nats-io/transport-node';
import { natsAuthOf, type ProviderConfig } from '@tabmesh/runtime';
import type { SessionPersistDriver } from 'sandbox-agent';
import { LocalProvider } from './local/local-provider.js';
import { JetStreamSessionPersistDriver } from './persist/jetstream-persist-driver.js';
import type { SandboxProvider } from './provider.js';
import { loadSdkProvider, RemoteProvider } from './remote/remote-provider.js';
import { isRemoteProvider, remoteSettingsOf } from './remote/remote-settings.js';
import { SimKvProvider } from './sim-kv-provider.js';
import { SimProvider } from './sim-provider.js';

export type ProviderDeps = {
  /** With a connection, session records go to JetStream (bucket `sessions`, stream `SESSION_EVENTS`). */
  nc?: NatsConnection;
  /** A persist driver to use instead (tests); wins over `nc`. */
  persist?: SessionPersistDriver;
};

/**
 * Builds the provider named by TABMESH_PROVIDER; the one place that knows every provider. It reads
 * only the parsed config (loadConfig checked every format at start); what it checks itself is what
 * only a provider-running service needs, its credentials and its vendor package, and it throws a
 * ConfigError naming the variable when one is missing.
 */
export async function createProvider(config: ProviderConfig, deps: ProviderDeps = {}): Promise<SandboxProvider> {
  const name = config.TABMESH_PROVIDER;
  if (name === 'sim') {
    const sim = {
      provisionMs: config.TABMESH_SIM_PROVISION_MS,
      sessionMs: config.TABMESH_SIM_SESSION_MS,
      failRate: config.TABMESH_SIM_FAIL_RATE,
    };
    // Load and fault tests with services in separate processes share one ledger in NATS KV.
    if (config.TABMESH_SIM_LEDGER === 'nats') {
      return SimKvProvider.open(sim, {
        ...(deps.nc ? { nc: deps.nc } : {}),
        natsUrl: config.NATS_URL,
        auth: natsAuthOf(config),
        replicas: config.TABMESH_REPLICAS,
      });
    }
    return new SimProvider(sim);
  }
  const remote = isRemoteProvider(name) ? remoteSettingsOf(name, config) : null;
  const persist = deps.persist ?? (deps.nc ? await JetStreamSessionPersistDriver.open(deps.nc) : undefined);
  const common = { sessionTimeoutMs: config.TABMESH_SESSION_TIMEOUT_MS, ...(persist ? { persist } : {}) };
  if (remote) return new RemoteProvider(await loadSdkProvider(remote), common);
  return new LocalProvider({
    ...common,
    stateDir: config.TABMESH_STATE_DIR,
    startTimeoutMs: config.TABMESH_SANDBOX_START_TIMEOUT_MS,
    ...(config.SANDBOX_AGENT_BIN ? { binaryPath: config.SANDBOX_AGENT_BIN } : {}),
  });
}
