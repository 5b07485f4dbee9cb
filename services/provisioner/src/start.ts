import { ProvisionJobSchema, Streams } from '@tabmesh/contracts';
import { type SandboxProvider, startProviderWorker, workerSandboxAccess } from '@tabmesh/providers';
import {
  type Config,
  type Logger,
  ProvisionedTasks,
  SandboxSlots,
  TabFlow,
  type WorkerKind,
  type WorkerServiceHandle,
} from '@tabmesh/runtime';
import { handleProvision, onProvisionFailure, type ProvisionDeps } from './handle-provision.js';
import { SandboxWatch } from './sandbox-watch.js';

export type ProvisionerHandle = WorkerServiceHandle<typeof ProvisionJobSchema, ProvisionDeps, SandboxProvider>;

/** Provision jobs start and tear down a task's sandbox; they change tabs and tasks only through the flow. */
const provisioner: WorkerKind<typeof ProvisionJobSchema, ProvisionDeps, SandboxProvider> = {
  stream: Streams.provision,
  schema: ProvisionJobSchema,
  deps: (bus, provider, config) => ({
    flow: TabFlow.onBus(bus),
    provider: workerSandboxAccess(bus, provider),
    slots: new SandboxSlots(bus.sandboxSlots, config.TABMESH_MAX_SANDBOXES),
    renewMs: Math.max(250, Math.floor(config.TABMESH_ACK_WAIT_MS / 3)),
  }),
  // The liveness watch of recorded sandboxes runs beside the consumer, with the slot reconciliation.
  companions: async (deps, { bus, config, logger, onStop }) => {
    onStop(() => deps.slots.stop());
    const provisioned = new ProvisionedTasks(bus.tasks, logger);
    await provisioned.start();
    onStop(() => provisioned.stop());
    const watch = new SandboxWatch(provisioned, deps.flow, deps.provider, deps.slots, {
      intervalMs: config.TABMESH_SANDBOX_WATCH_MS,
      leaseMs: 3 * config.TABMESH_ACK_WAIT_MS,
      logger,
    });
    watch.start();
    onStop(() => watch.stop());
  },
  handle: handleProvision,
  onFailure: onProvisionFailure,
  logIds: (job) => ({ org: job.org, task: job.task, generation: job.generation, op: job.op }),
};

/** Runs the `provisioner` durable consumer; any number of processes share it. */
export const startProvisioner = (
  config: Config,
  logger: Logger,
  opts: { provider?: SandboxProvider } = {},
): Promise<ProvisionerHandle> => startProviderWorker(config, logger, provisioner, opts.provider);
