import { connect, type NatsConnection } from '@nats-io/transport-node';
import { BusIdentity } from '@tabmesh/contracts';
import { bindBus, type Config, ensureBus, loadConfig } from '@tabmesh/runtime';
import { TestAdminUser, type TestBusUsers } from '../bus-users.js';
import { NatsCluster } from '../nats-cluster.js';
import { NatsServer } from '../nats-server.js';
import { inProcessTestEnv, loopbackEnv, processTestEnv } from '../test-config.js';
import { Mesh } from './mesh.js';
import {
  type AnyInProcess,
  defaultCounts,
  type InProcessServices,
  type ProviderChoice,
  processName,
  ServiceKinds,
  type SetupOptions,
} from './options.js';

/**
 * Starts what a test needs and returns it (see `Mesh`); `await using mesh = await setup(...)` stops
 * it all at the end of the scope. Services count as ready when their start function resolved
 * (in-process) or they sent their ready signal (processes); gateways also once `/readyz` says 200.
 *
 * @example
 * await using mesh = await setup({ services: { gateway: 1 }, inProcess });
 * await using faults = await setup({ mode: 'process', nats: 'cluster', env: { TABMESH_REPLICAS: '3' } });
 */
export async function setup<S extends AnyInProcess = AnyInProcess, P = unknown>(
  opts: SetupOptions<S, P> = {},
): Promise<Mesh<S, P>> {
  const nats = opts.nats ?? 'single';
  const server = nats === 'single' ? await NatsServer.start(opts.natsServer) : null;
  let cluster: NatsCluster | null = null;
  try {
    if (nats === 'cluster' || (typeof nats === 'object' && 'cluster' in nats)) {
      cluster = await NatsCluster.start({ size: nats === 'cluster' ? 3 : nats.cluster });
    }
    const natsUrl = server?.url ?? cluster?.url ?? (nats as { url: string }).url;
    const mode = opts.mode ?? 'in-process';
    const preset = opts.testDefaults === false ? loopbackEnv : mode === 'process' ? processTestEnv : inProcessTestEnv;
    const choice = opts.provider;
    const named: Record<string, string> =
      choice === 'sim' || choice === 'local' ? { TABMESH_PROVIDER: choice as string } : {};
    const env = { ...preset(natsUrl), ...named, ...opts.env };
    const config = loadConfig(env);
    const users = server?.users ?? cluster?.users ?? null;
    // The bus set-up runs as `setup`, as in production; then the test's own connection is `admin`.
    if (users) await setUpBusAs(users, natsUrl, config);
    const nc = await connect({
      servers: natsUrl.split(','),
      name: 'tabmesh-test',
      maxReconnectAttempts: -1,
      reconnectTimeWait: 100,
      ...(users ? users.connectOptions(TestAdminUser) : {}),
    });
    try {
      const bus = users ? await bindBus(nc, []) : await ensureBus(nc, config);
      const provider = await sharedProvider(opts.provider, mode, opts.inProcess, nc, config);
      const mesh = new Mesh<S, P>(
        natsUrl,
        server,
        cluster,
        users,
        env,
        config,
        nc,
        bus,
        provider,
        opts.inProcess,
        opts.processes ?? {},
      );
      try {
        await startServices(mesh, mode, { ...defaultCounts, ...opts.services });
      } catch (err) {
        await mesh.stop();
        throw err;
      }
      return mesh;
    } catch (err) {
      if (!nc.isClosed()) await nc.close();
      throw err;
    }
  } catch (err) {
    await server?.stop();
    await cluster?.stop();
    throw err;
  }
}

/** Creates the streams, buckets and consumers on a short-lived connection of the `setup` user. */
async function setUpBusAs(users: TestBusUsers, natsUrl: string, config: Config): Promise<void> {
  const snc = await connect({
    servers: natsUrl.split(','),
    name: 'tabmesh-test-setup',
    ...users.connectOptions(BusIdentity.Setup),
  });
  try {
    await ensureBus(snc, config);
  } finally {
    await snc.close();
  }
}

/** In-process workers share one provider; children (and `local`) build their own. */
async function sharedProvider<P>(
  choice: ProviderChoice<P> | undefined,
  mode: 'in-process' | 'process',
  inProcess: AnyInProcess | undefined,
  nc: NatsConnection,
  config: Config,
): Promise<P | undefined> {
  if (choice === 'local' || (mode === 'process' && (choice === undefined || choice === 'sim'))) return undefined;
  if (choice === undefined || choice === 'sim') return (inProcess as InProcessServices<P> | undefined)?.sim?.(config);
  if (typeof choice === 'function') return (choice as (nc: NatsConnection, config: Config) => Promise<P>)(nc, config);
  return choice;
}

async function startServices<S extends AnyInProcess, P>(
  mesh: Mesh<S, P>,
  mode: 'in-process' | 'process',
  counts: Record<(typeof ServiceKinds)[number], number>,
): Promise<void> {
  const backEnd = ServiceKinds.filter((k) => k !== 'gateway');
  if (mode === 'in-process') {
    // One after another, as the services' own start-up order would be: registries answer first.
    for (const kind of [...backEnd, 'gateway' as const]) for (let i = 0; i < counts[kind]; i++) await mesh.start(kind);
    return;
  }
  // Processes start in parallel (each takes a second or two to load); gateways after the rest.
  await Promise.all(backEnd.flatMap((k) => Array.from({ length: counts[k] }, () => mesh.spawn(processName[k]))));
  await Promise.all(Array.from({ length: counts.gateway }, () => mesh.spawn(processName.gateway)));
}
