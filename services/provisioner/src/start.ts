import { ProvisionJobSchema, Streams, type ProvisionJob } from '@tabmesh/contracts';
import { createProvider, type SandboxProvider } from '@tabmesh/providers';
import { TabFlow, TabStore, TaskStore, startWorkerService, type Config, type Logger, type WorkerServiceHandle } from '@tabmesh/runtime';
import { handleProvision, onProvisionFailure, type ProvisionDeps } from './handle-provision.js';

export type ProvisionerHandle = WorkerServiceHandle<typeof ProvisionJobSchema, ProvisionDeps, SandboxProvider>;

/** Runs the `provisioner` durable consumer; any number of processes share it. */
export function startProvisioner(config: Config, logger: Logger, opts: { provider?: SandboxProvider } = {}): Promise<ProvisionerHandle> {
  return startWorkerService(config, logger, {
    name: 'provisioner',
    stream: Streams.provision,
    schema: ProvisionJobSchema,
    provider: opts.provider ?? ((bus) => createProvider(config, process.env, { nc: bus.nc })),
    deps: (bus, provider) => ({ flow: new TabFlow(bus.js, new TabStore(bus.tabs), new TaskStore(bus.tasks)), provider }),
    handle: handleProvision,
    onFailure: onProvisionFailure,
    logIds: (job: ProvisionJob) => ({ org: job.org, task: job.task, generation: job.generation, op: job.op }),
  });
}
