/**
 * Runs tabmesh services together in this one Node process, each as it runs alone: its own
 * configuration, bus connection and bus user, logger, ops listener, and drain on stop. The process
 * is shared, and one thing more: the gateway asks the tab-registry here for creates, closes and the
 * other `tab.*` requests directly instead of through nats-server (~0.7 ms of CPU per tab at 200/s:
 * docs/bench/README.md, eleventh round). `pnpm start` runs the whole mesh this way unless told
 * `--processes`: on one machine, four Node processes cost about a third more CPU per tab than one
 * doing the same work with the same bus traffic (docs/bench/README.md, eighth round), and nothing
 * on one machine needs them apart. Deployments that scale each kind on its own run each service
 * alone (deploy/), where every request crosses the bus.
 *
 * Input: TABMESH_HOSTED_ENV, a JSON object from service name to the environment that service gets
 * on top of this process's own (its bus identity, its ops port). The services named are started in
 * a fixed order; once all are ready this process sends one ready signal, `mesh-host`, with the
 * gateway's ports when it hosts the gateway.
 */
import { ServiceStartOrder } from '@tabmesh/contracts';
import { startGateway } from '@tabmesh/gateway';
import { startProvisioner } from '@tabmesh/provisioner';
import {
  announceReady,
  type Config,
  createLogger,
  type InProcessRequests,
  type Logger,
  loadConfig,
  MeshHostName,
  type ServiceHandle,
  stopOnSignals,
} from '@tabmesh/runtime';
import { startSessionCreator } from '@tabmesh/session-creator';
import { startTabRegistry } from '@tabmesh/tab-registry';
import * as z from 'zod';

const HostableServices = ServiceStartOrder;
type HostableService = (typeof HostableServices)[number];

const HostedEnvSchema = z.partialRecord(z.enum(HostableServices), z.record(z.string(), z.string()));

async function startHosted(hosted: z.infer<typeof HostedEnvSchema>): Promise<ServiceHandle> {
  const handles: ServiceHandle[] = [];
  const ports: Record<string, number> = {};
  let registry: InProcessRequests | undefined;
  const stopAll = async () => {
    await Promise.all(handles.map((h) => h.stop()));
  };
  try {
    for (const name of HostableServices) {
      const env = hosted[name];
      if (!env) continue;
      const config = loadConfig({ ...process.env, ...env });
      const logger = createLogger(name, config.LOG_LEVEL);
      if (name === 'gateway') {
        // The gateway asks the registry started before it directly, not through nats-server.
        const gateway = await startGateway(config, logger, { inProcessRegistry: registry });
        Object.assign(ports, { http: gateway.httpPort, ws: gateway.wsPort });
        handles.push(gateway);
      } else if (name === 'tab-registry') {
        const started = await startTabRegistry(config, logger);
        registry = started.inProcess;
        handles.push(started);
      } else handles.push(await starters[name](config, logger));
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
  (config: Config, logger: Logger) => Promise<ServiceHandle>
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
  const started = startHosted(hostedServices(process.env.TABMESH_HOSTED_ENV));
  stopOnSignals(started, logger);
  await started;
} catch (err) {
  logger.fatal({ err }, `${MeshHostName} failed to start`);
  process.exit(1);
}
