import type { z } from 'zod';
import { ensureBus, type Bus } from './bus-setup.js';
import type { Config } from './config.js';
import type { ServiceHandle } from './lifecycle.js';
import { drainConnection } from './lifecycle.js';
import type { Logger } from './logger.js';
import { connectNats } from './nats.js';
import { JobWorker, type FailureInfo, type JobContext } from './worker.js';

export type WorkerServiceOptions<S extends z.ZodType, D> = {
  name: string;
  config: Config;
  logger: Logger;
  stream: { name: string; consumer: string };
  schema: S;
  /** Builds what the handlers need once the bus is up; `close` runs after the drain. */
  setup: (bus: Bus) => Promise<{ deps: D; close?: () => Promise<void>; describe?: Record<string, unknown> }>;
  handle: (deps: D, ctx: JobContext<z.infer<S>>) => Promise<void>;
  onFailure: (deps: D, ctx: JobContext<z.infer<S>>, failure: FailureInfo) => Promise<void>;
  logIds?: (job: z.infer<S>) => Record<string, unknown>;
};

export type WorkerServiceHandle<S extends z.ZodType, D> = ServiceHandle & { worker: JobWorker<S>; deps: D };

/**
 * One shape for every worker service: connect, set up the bus, run a durable consumer with the
 * configured concurrency, and on stop drain the worker, then the connection.
 */
export async function startWorkerService<S extends z.ZodType, D>(
  opts: WorkerServiceOptions<S, D>,
): Promise<WorkerServiceHandle<S, D>> {
  const { config, logger } = opts;
  const nc = await connectNats(config.NATS_URL, opts.name, logger);
  const bus = await ensureBus(nc, config);
  const { deps, close, describe } = await opts.setup(bus);
  const worker = new JobWorker({
    js: bus.js,
    stream: opts.stream.name,
    consumer: opts.stream.consumer,
    schema: opts.schema,
    concurrency: config.TABMESH_CONCURRENCY,
    ackWaitMs: config.TABMESH_ACK_WAIT_MS,
    maxDeliver: config.TABMESH_MAX_DELIVER,
    retryBaseMs: config.TABMESH_RETRY_BASE_MS,
    drainTimeoutMs: config.TABMESH_DRAIN_TIMEOUT_MS,
    logger,
    ...(opts.logIds ? { logIds: opts.logIds } : {}),
    handle: (ctx) => opts.handle(deps, ctx),
    onFailure: (ctx, failure) => opts.onFailure(deps, ctx, failure),
  });
  worker.start();
  logger.info({ ...describe, concurrency: config.TABMESH_CONCURRENCY }, `${opts.name} ready`);
  let stopped: Promise<void> | null = null;
  return {
    worker,
    deps,
    stop: () =>
      (stopped ??= (async () => {
        logger.info({ inFlight: worker.stats.inFlight }, 'drain start');
        const res = await worker.stop();
        await drainConnection(nc);
        await close?.();
        logger.info(res, 'drain end');
      })()),
  };
}
