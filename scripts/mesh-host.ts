/**
 * Runs tabmesh services together in this one Node process, each as it runs alone: its own
 * configuration, logger, ops listener, and drain on stop. Two things are shared:
 * - one bus connection, as the `mesh-host` user (MeshHostGrant: what each hosted service may), from
 *   this process's NATS_* settings; nats-server then wakes one socket, not four, for a write that
 *   several of the services watch (docs/bench/README.md, twelfth round). It is drained once every
 *   service has stopped;
 * - the gateway asks the tab-registry here for creates, closes and the other `tab.*` requests
 *   directly instead of through nats-server (~0.7 ms of CPU per tab at 200/s: eleventh round).
 *
 * `pnpm start` runs the whole mesh this way unless told
 * `--processes`: on one machine, four Node processes cost about a third more CPU per tab than one
 * doing the same work with the same bus traffic (docs/bench/README.md, eighth round), and nothing
 * on one machine needs them apart. Deployments that scale each kind on its own run each service
 * alone (deploy/), where every request crosses the bus.
 *
 * Input: TABMESH_HOSTED_ENV, a JSON object from service name to the environment that service gets
 * on top of this process's own (its ops port). The services named are started in
 * a fixed order; once all are ready this process sends one ready signal, `mesh-host`, with the
 * gateway's ports when it hosts the gateway.
 */
import { ServiceStartOrder } from '@tabmesh/contracts';
import { startGateway } from '@tabmesh/gateway';
import { startProvisioner } from '@tabmesh/provisioner';
import {
  announceReady,
  type Config,
  connectNats,
  createLogger,
  drainConnection,
  type InProcessRequests,
  type Logger,
  loadConfig,
  MeshHostName,
  natsAuthOf,
  type ServiceHandle,
  type SharedConnection,
  stopOnSignals,
} from '@tabmesh/runtime';
import { startSessionCreator } from '@tabmesh/session-creator';
import { startTabRegistry } from '@tabmesh/tab-registry';
import * as z from 'zod';

const HostableServices = ServiceStartOrder;
type HostableService = (typeof HostableServices)[number];

const HostedEnvSchema = z.partialRecord(z.enum(HostableServices), z.record(z.string(), z.string()));

async function startHosted(hosted: z.infer<typeof HostedEnvSchema>, hostLogger: Logger): Promise<ServiceHandle> {
  const hostConfig = loadConfig();
  const nc = await connectNats(hostConfig.NATS_URL, MeshHostName, hostLogger, natsAuthOf(hostConfig));
  const shared = { sharedConnection: nc };
  const handles: ServiceHandle[] = [];
  const ports: Record<string, number> = {};
  let registry: InProcessRequests | undefined;
  const stopAll = async () => {
    try {
      await Promise.all(handles.map((h) => h.stop()));
    } finally {
      await drainConnection(nc);
    }
  };
  try {
    for (const name of HostableServices) {
      const env = hosted[name];
      if (!env) continue;
      const config = loadConfig({ ...process.env, ...env });
      const logger = createLogger(name, config.LOG_LEVEL);
      if (name === 'gateway') {
        // The gateway asks the registry started before it directly, not through nats-server.
        const gateway = await startGateway(config, logger, { ...shared, inProcessRegistry: registry });
        Object.assign(ports, { http: gateway.httpPort, ws: gateway.wsPort });
        handles.push(gateway);
      } else if (name === 'tab-registry') {
        const started = await startTabRegistry(config, logger, shared);
        registry = started.inProcess;
        handles.push(started);
      } else handles.push(await starters[name](config, logger, shared));
    }
  } catch (err) {
    await stopAll().catch(() => undefined);
    throw err;
  }
  announceReady(MeshHostName, ports);
  return { stop: stopAll };
}

const starters: Record<
  Exclude<HostableService, 'gateway' | 'tab-registry'>,
  (config: Config, logger: Logger, shared: SharedConnection) => Promise<ServiceHandle>
> = {
  provisioner: startProvisioner,
  'session-creator': startSessionCreator,
};

/** The hosted services and their environments; the error never quotes the input (it holds bus passwords). */
function hostedServices(raw: string | undefined): z.infer<typeof HostedEnvSchema> {
  let json: unknown;
  try {
    json = JSON.parse(raw ?? '{}');
  } catch {
    json = null;
  }
  const parsed = HostedEnvSchema.safeParse(json);
  if (!parsed.success || Object.keys(parsed.data).length === 0) {
    throw new Error(
      `TABMESH_HOSTED_ENV must be a JSON object naming at least one of ${HostableServices.join(', ')}, each with an object of strings`,
    );
  }
  return parsed.data;
}

// The configured level is not known until the configuration parsed; a boot failure is logged at info.
let logger = createLogger(MeshHostName, 'info');
try {
  logger = createLogger(MeshHostName, loadConfig().LOG_LEVEL);
  const started = startHosted(hostedServices(process.env.TABMESH_HOSTED_ENV), logger);
  stopOnSignals(started, logger);
  await started;
} catch (err) {
  logger.fatal({ err }, `${MeshHostName} failed to start`);
  process.exit(1);
}
