import { ProvisionJobSchema, Streams, type ProvisionJob } from '@tabmesh/contracts';
import { createProvider, type SandboxProvider } from '@tabmesh/providers';
import {
  TabFlow,
  TabStore,
  TaskStore,
  startWorkerService,
  type Config,
  type Logger,
  type WorkerServiceHandle,
} from '@tabmesh/runtime';
import { handleProvision, onProvisionFailure, type ProvisionDeps } from './handle-provision.js';

export type ProvisionerHandle = WorkerServiceHandle<typeof ProvisionJobSchema, ProvisionDeps> & { provider: SandboxProvider };

/** Runs the `provisioner` durable consumer; any number of processes share it. */
export async function startProvisioner(
  config: Config,
  logger: Logger,
  opts: { provider?: SandboxProvider } = {},
): Promise<ProvisionerHandle> {
  const handle = await startWorkerService({
    name: 'provisioner',
    config,
    logger,
    stream: Streams.provision,
    schema: ProvisionJobSchema,
    setup: async (bus) => {
      const provider = opts.provider ?? (await createProvider(config, { nc: bus.nc }));
      const deps: ProvisionDeps = { flow: new TabFlow(bus.js, new TabStore(bus.tabs), new TaskStore(bus.tasks)), provider };
      return { deps, describe: { provider: provider.name }, ...(opts.provider ? {} : { close: () => provider.close() }) };
    },
    handle: handleProvision,
    onFailure: onProvisionFailure,
    logIds: (job: ProvisionJob) => ({ org: job.org, task: job.task, generation: job.generation, op: job.op }),
  });
  return { ...handle, provider: handle.deps.provider };
}
