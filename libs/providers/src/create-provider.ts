import type { NatsConnection } from '@nats-io/transport-node';
import type { SessionPersistDriver } from 'sandbox-agent';
import { ErrorCode, ProviderError } from './errors.js';
import { LocalProvider } from './local/local-provider.js';
import { loadLocalSettings } from './local/local-settings.js';
import { JetStreamSessionPersistDriver } from './persist/jetstream-persist-driver.js';
import type { SandboxProvider } from './provider.js';
import { RemoteProvider, loadSdkProvider } from './remote/remote-provider.js';
import { isRemoteProvider, loadRemoteSettings, RemoteProviders } from './remote/remote-settings.js';
import { SimProvider } from './sim-provider.js';
import { SimKvProvider, loadSimLedgerSettings } from './sim-kv-provider.js';

export type ProviderSettings = {
  TABMESH_PROVIDER: string;
  TABMESH_SIM_PROVISION_MS: number;
  TABMESH_SIM_SESSION_MS: number;
  TABMESH_SIM_FAIL_RATE: number;
};

export type ProviderDeps = {
  /** With a connection, session records go to JetStream (bucket `sessions`, stream `SESSION_EVENTS`). */
  nc?: NatsConnection;
  /** A persist driver to use instead (tests); wins over `nc`. */
  persist?: SessionPersistDriver;
};

/**
 * Builds the provider named by TABMESH_PROVIDER; the one place that knows every provider. Provider
 * settings are read from `env` and validated here, so a bad or incomplete setup fails at start
 * (credentials_missing names the variable).
 */
export async function createProvider(settings: ProviderSettings, env: Record<string, string | undefined> = process.env, deps: ProviderDeps = {}): Promise<SandboxProvider> {
  const name = settings.TABMESH_PROVIDER;
  if (name === 'sim') {
    const sim = {
      provisionMs: settings.TABMESH_SIM_PROVISION_MS,
      sessionMs: settings.TABMESH_SIM_SESSION_MS,
      failRate: settings.TABMESH_SIM_FAIL_RATE,
    };
    // Load and fault tests with services in separate processes share one ledger in NATS KV.
    const ledger = loadSimLedgerSettings(env);
    if (ledger.TABMESH_SIM_LEDGER === 'nats') {
      return SimKvProvider.open(sim, { ...(deps.nc ? { nc: deps.nc } : {}), natsUrl: ledger.NATS_URL, replicas: ledger.TABMESH_REPLICAS });
    }
    return new SimProvider(sim);
  }
  if (name !== 'local' && !isRemoteProvider(name)) {
    const known = ['local', 'sim', ...Object.keys(RemoteProviders)].join(', ');
    throw new ProviderError(ErrorCode.InvalidRequest, `TABMESH_PROVIDER=${name} is unknown (one of ${known})`);
  }
  const local = loadLocalSettings(env);
  const remote = isRemoteProvider(name) ? loadRemoteSettings(name, env) : null;
  const persist = deps.persist ?? (deps.nc ? await JetStreamSessionPersistDriver.open(deps.nc) : undefined);
  const common = { sessionTimeoutMs: local.TABMESH_SESSION_TIMEOUT_MS, ...(persist ? { persist } : {}) };
  if (remote) return new RemoteProvider(await loadSdkProvider(remote), common);
  return new LocalProvider({
    ...common,
    stateDir: local.TABMESH_STATE_DIR,
    startTimeoutMs: local.TABMESH_SANDBOX_START_TIMEOUT_MS,
    ...(local.SANDBOX_AGENT_BIN ? { binaryPath: local.SANDBOX_AGENT_BIN } : {}),
  });
}
