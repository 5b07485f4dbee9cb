import type { z } from 'zod';
import type { Bus } from './bus-setup.js';
import type { Config } from './config.js';
import type { Logger } from './logger.js';
import { type RunningService, type StopStep, startService } from './service-lifecycle.js';
import { registerWorkerMetrics, timedProvider, type WorkerMetrics } from './service-metrics.js';
import { type FailureInfo, type JobContext, JobWorker, type WorkerStats } from './worker.js';

const idleStats: WorkerStats = { inFlight: 0, started: 0, succeeded: 0, retried: 0, failed: 0, poison: 0 };

/** What a worker's handlers act through (the sandbox provider): named on the ready line, closed on stop. */
export type WorkerProvider = { name: string; close: () => Promise<void> };

/**
 * What differs between two worker kinds: the consumer (whose name is the service's), the job
 * schema, the handlers and what they use.
 */
export type WorkerKind<S extends z.ZodType, D, P extends WorkerProvider> = {
  stream: { name: string; consumer: string };
  schema: S;
  /** `metrics` records what only the kind knows (a session-creator: a tab's time to ready). */
  deps: (bus: Bus, provider: P, config: Config, metrics: WorkerMetrics) => D;
  /**
   * What runs beside the consumer for the life of the service (a watch, a reconciliation loop):
   * started once the deps exist, each stopped through `onStop` (before the worker drains).
   */
  companions?: (
    deps: D,
    ctx: { bus: Bus; config: Config; logger: Logger; onStop: (step: StopStep) => void },
  ) => Promise<void>;
  handle: (deps: D, ctx: JobContext<z.infer<S>>) => Promise<void>;
  onFailure: (deps: D, ctx: JobContext<z.infer<S>>, failure: FailureInfo) => Promise<void>;
  logIds?: (job: z.infer<S>) => Record<string, unknown>;
};

export type WorkerServiceHandle<S extends z.ZodType, D, P extends WorkerProvider> = RunningService<{
  worker: JobWorker<S>;
  deps: D;
  provider: P;
}>;

/**
 * One shape for every worker service, on the shared lifecycle: a durable consumer with the
 * configured concurrency; on stop the worker drains, then the provider closes, then the connection.
 */
export function startWorkerService<S extends z.ZodType, D, P extends WorkerProvider>(
  config: Config,
  logger: Logger,
  kind: WorkerKind<S, D, P>,
  /**
   * The provider, or how to open it once the bus is up. One that is passed in stays its caller's
   * (a test shares one between services); one opened here is closed after the worker drained.
   */
  provider: P | ((bus: Bus) => Promise<P>),
): Promise<WorkerServiceHandle<S, D, P>> {
  return startService({
    name: kind.stream.consumer,
    config,
    logger,
    start: async ({ bus, metrics, onStop }) => {
      const opened = typeof provider === 'function' ? await provider(bus) : null;
      if (opened) onStop(() => opened.close());
      const used = opened ?? (provider as P);
      let worker: JobWorker<S> | null = null;
      const recorder = registerWorkerMetrics(metrics, {
        consumer: kind.stream.consumer,
        provider: used.name,
        stats: () => worker?.stats ?? idleStats,
        consumerInfo: () => bus.jsm.consumers.info(kind.stream.name, kind.stream.consumer),
      });
      // Every provider call of a job is timed as a step; the handle keeps the provider as given.
      const deps = kind.deps(bus, timedProvider(used, recorder), config, recorder);
      worker = new JobWorker({
        js: bus.js,
        stream: kind.stream.name,
        consumer: kind.stream.consumer,
        schema: kind.schema,
        concurrency: config.TABMESH_CONCURRENCY,
        ackWaitMs: config.TABMESH_ACK_WAIT_MS,
        maxDeliver: config.TABMESH_MAX_DELIVER,
        retryBaseMs: config.TABMESH_RETRY_BASE_MS,
        drainTimeoutMs: config.TABMESH_DRAIN_TIMEOUT_MS,
        logger,
        ...(kind.logIds ? { logIds: kind.logIds } : {}),
        handle: (ctx) => kind.handle(deps, ctx),
        onFailure: (ctx, failure) => kind.onFailure(deps, ctx, failure),
        onQueueWait: recorder.queueWait,
      });
      worker.start();
      onStop(() => worker.stop());
      await kind.companions?.(deps, { bus, config, logger, onStop });
      const started = worker;
      return {
        handle: { worker: started, deps, provider: used },
        inFlight: () => started.stats.inFlight,
        describe: { provider: used.name, concurrency: config.TABMESH_CONCURRENCY },
      };
    },
  });
}
