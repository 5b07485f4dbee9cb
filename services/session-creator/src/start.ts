import { SessionJobSchema, Streams, type SessionJob } from '@tabmesh/contracts';
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
import { handleSession, onSessionFailure, type SessionDeps } from './handle-session.js';

export type SessionCreatorHandle = ServiceHandle & { worker: JobWorker<typeof SessionJobSchema>; provider: SandboxProvider };

/** Runs the `session-creator` durable consumer; any number of processes share it. */
export async function startSessionCreator(
  config: Config,
  logger: Logger,
  opts: { provider?: SandboxProvider } = {},
): Promise<SessionCreatorHandle> {
  const nc = await connectNats(config.NATS_URL, 'session-creator', logger);
  const bus = await ensureBus(nc, config);
  const provider = opts.provider ?? (await createProvider(config, process.env, { nc }));
  const tabs = new TabStore(bus.tabs);
  const tasks = new TaskStore(bus.tasks);
  const deps: SessionDeps = { tabs, tasks, flow: new TabFlow(bus.js, tabs, tasks), provider };
  const worker = new JobWorker({
    js: bus.js,
    stream: Streams.sessions.name,
    consumer: Streams.sessions.consumer,
    schema: SessionJobSchema,
    concurrency: config.TABMESH_CONCURRENCY,
    ackWaitMs: config.TABMESH_ACK_WAIT_MS,
    maxDeliver: config.TABMESH_MAX_DELIVER,
    retryBaseMs: config.TABMESH_RETRY_BASE_MS,
    drainTimeoutMs: config.TABMESH_DRAIN_TIMEOUT_MS,
    logger,
    logIds: (job: SessionJob) => ({ org: job.org, task: job.task, tab: job.tab, op: job.op }),
    handle: (ctx) => handleSession(deps, ctx),
    onFailure: (ctx, failure) => onSessionFailure(deps, ctx, failure),
  });
  worker.start();
  logger.info({ provider: provider.name, concurrency: config.TABMESH_CONCURRENCY }, 'session-creator ready');
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
