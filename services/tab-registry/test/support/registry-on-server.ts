import { createLogger } from '@tabmesh/runtime';
import { type BusOnServer, startBusOnServer, testConfig } from '@tabmesh/testkit';
import { startTabRegistry, type TabRegistryHandle } from '../../src/index.js';

export type RegistryOnServer = BusOnServer & {
  registry: TabRegistryHandle;
  /** Another registry on the same server, as its own bus user. */
  startAnother: () => Promise<TabRegistryHandle>;
};

/** A nats-server of its own with the bus set up and one tab-registry on it; `nc` is the test's (admin). */
export async function startRegistryOnServer(): Promise<RegistryOnServer> {
  const base = await startBusOnServer();
  const startAnother = () =>
    startTabRegistry(
      testConfig(base.server.url, base.server.serviceEnv('tab-registry')),
      createLogger('tab-registry', 'silent'),
    );
  const registry = await startAnother();
  return {
    ...base,
    registry,
    startAnother,
    stop: async () => {
      await registry.stop();
      await base.stop();
    },
  };
}
