import { ProvisionJobSchema, Streams, type ProvisionJob } from '@tabmesh/contracts';
import { createProvider, type SandboxProvider } from '@tabmesh/providers';
import {
  JobWorker,
  TabFlow,
  TabStore,
  TaskStore,
  connectNats,
  drainConnection,
  ensureBus,
  type Config,
  type Logger,
  type ServiceHandle,
} from '@tabmesh/runtime';
import { handleProvision, onProvisionFailure, type ProvisionDeps } from './handle-provision.js';

export type ProvisionerHandle = ServiceHandle & { worker: JobWorker<typeof ProvisionJobSchema>; provider: SandboxProvider };

/** Runs the `provisioner` durable consumer; any number of processes share it. */
export async function startProvisioner(
  config: Config,
  logger: Logger,
  opts: { provider?: SandboxProvider } = {},
): Promise<ProvisionerHandle> {
  const nc = await connectNats(config.NATS_URL, 'provisioner', logger);
  const bus = await ensureBus(nc, config);
  const provider = opts.provider ?? (await createProvider(config, process.env, { nc }));
  const deps: ProvisionDeps = { flow: new TabFlow(bus.js, new TabStore(bus.tabs), new TaskStore(bus.tasks)), provider };
  const worker = new JobWorker({
    js: bus.js,
    stream: Streams.provision.name,
    consumer: Streams.provision.consumer,
    schema: ProvisionJobSchema,
    concurrency: config.TABMESH_CONCURRENCY,
    ackWaitMs: config.TABMESH_ACK_WAIT_MS,
    maxDeliver: config.TABMESH_MAX_DELIVER,
    retryBaseMs: config.TABMESH_RETRY_BASE_MS,
    drainTimeoutMs: config.TABMESH_DRAIN_TIMEOUT_MS,
    logger,
    logIds: (job: ProvisionJob) => ({ org: job.org, task: job.task, generation: job.generation, op: job.op }),
    handle: (ctx) => handleProvision(deps, ctx),
    onFailure: (ctx, failure) => onProvisionFailure(deps, ctx, failure),
  });
  worker.start();
  logger.info({ provider: provider.name, concurrency: config.TABMESH_CONCURRENCY }, 'provisioner ready');
  let stopped: Promise<void> | null = null;
  return {
    worker,
    provider,
    stop: () =>
      (stopped ??= (async () => {
        logger.info({ inFlight: worker.stats.inFlight }, 'drain start');
        const res = await worker.stop();
        await drainConnection(nc);
        if (!opts.provider) await provider.close();
        logger.info(res, 'drain end');
      })()),
  };
}
