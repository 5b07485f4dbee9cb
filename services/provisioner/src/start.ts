import { ProvisionJobSchema, Streams, type ProvisionJob } from '@tabmesh/contracts';
import { createProvider, ownSandboxesOnly, type SandboxProvider } from '@tabmesh/providers';
import {
  ProvisionedTasks,
  SandboxSlots,
  TabFlow,
  TabStore,
  TaskStore,
  startWorkerService,
  type Config,
  type Logger,
  type WorkerServiceHandle,
} from '@tabmesh/runtime';
import { handleProvision, onProvisionFailure, type ProvisionDeps } from './handle-provision.js';
import { SandboxWatch } from './sandbox-watch.js';

export type ProvisionerHandle = WorkerServiceHandle<typeof ProvisionJobSchema, ProvisionDeps> & { provider: SandboxProvider; watch: SandboxWatch };

/** Runs the `provisioner` durable consumer; any number of processes share it. */
export async function startProvisioner(
  config: Config,
  logger: Logger,
  opts: { provider?: SandboxProvider } = {},
): Promise<ProvisionerHandle> {
  let watch: SandboxWatch | null = null;
  const handle = await startWorkerService({
    name: 'provisioner',
    config,
    logger,
    stream: Streams.provision,
    schema: ProvisionJobSchema,
    setup: async (bus) => {
      const made = opts.provider ?? (await createProvider(config, { nc: bus.nc }));
      const provider = ownSandboxesOnly(made);
      const flow = new TabFlow(bus.js, new TabStore(bus.tabs), new TaskStore(bus.tasks));
      const slots = new SandboxSlots(bus.sandboxSlots, config.TABMESH_MAX_SANDBOXES);
      const renewMs = Math.max(250, Math.floor(config.TABMESH_ACK_WAIT_MS / 3));
      const deps: ProvisionDeps = { flow, provider, slots, renewMs };
      const provisioned = new ProvisionedTasks(bus.tasks, logger);
      await provisioned.start();
      watch = new SandboxWatch(provisioned, flow, provider, slots, {
        intervalMs: config.TABMESH_SANDBOX_WATCH_MS,
        leaseMs: 3 * config.TABMESH_ACK_WAIT_MS,
        logger,
      });
      watch.start();
      const close = async () => {
        await watch?.stop();
        provisioned.stop();
        slots.stop();
        if (!opts.provider) await made.close();
      };
      return { deps, describe: { provider: provider.name, maxSandboxes: config.TABMESH_MAX_SANDBOXES }, close };
    },
    handle: handleProvision,
    onFailure: onProvisionFailure,
    logIds: (job: ProvisionJob) => ({ org: job.org, task: job.task, generation: job.generation, op: job.op }),
  });
  return { ...handle, provider: handle.deps.provider, watch: watch! };
}
