import { ProvisionJobSchema, Streams } from '@tabmesh/contracts';
import { createProvider, type SandboxProvider } from '@tabmesh/providers';
import { TabFlow, TabStore, TaskStore, startWorkerService, type Config, type Logger, type WorkerKind, type WorkerServiceHandle } from '@tabmesh/runtime';
import { handleProvision, onProvisionFailure, type ProvisionDeps } from './handle-provision.js';

export type ProvisionerHandle = WorkerServiceHandle<typeof ProvisionJobSchema, ProvisionDeps, SandboxProvider>;

/** Provision jobs start and tear down a task's sandbox; they change tabs and tasks only through the flow. */
const provisioner: WorkerKind<typeof ProvisionJobSchema, ProvisionDeps, SandboxProvider> = {
  stream: Streams.provision,
  schema: ProvisionJobSchema,
  deps: (bus, provider) => ({ flow: new TabFlow(bus.js, new TabStore(bus.tabs), new TaskStore(bus.tasks)), provider }),
  handle: handleProvision,
  onFailure: onProvisionFailure,
  logIds: (job) => ({ org: job.org, task: job.task, generation: job.generation, op: job.op }),
};

/** Runs the `provisioner` durable consumer; any number of processes share it. */
export const startProvisioner = (config: Config, logger: Logger, opts: { provider?: SandboxProvider } = {}): Promise<ProvisionerHandle> =>
  startWorkerService(config, logger, provisioner, opts.provider ?? ((bus) => createProvider(config, process.env, { nc: bus.nc })));
