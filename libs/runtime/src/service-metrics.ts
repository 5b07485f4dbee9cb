import { WorkerMetricNames } from '@tabmesh/contracts';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { WorkerStats } from './worker.js';

/**
 * How often the event-loop delay is sampled, in ms. prom-client's default (10) wakes every worker
 * 100 times a second, which was most of an idle worker's CPU (about 3.8 of 6 ms per second); ten
 * samples a second still give the lag percentiles a scrape every few seconds needs.
 */
const EventLoopSampleMs = 100;

/**
 * A service's own Prometheus registry (not prom-client's global one, so several services in one
 * test process do not share series), with the process metrics prom-client collects by default.
 */
export function createMetricsRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: EventLoopSampleMs });
  return registry;
}

/** What every service's lifecycle records: reconnections to NATS and how long a SIGTERM drain took. */
export type LifecycleMetrics = { reconnected: () => void; drained: (seconds: number) => void };

export function registerLifecycleMetrics(registry: Registry): LifecycleMetrics {
  const reconnects = new Counter({
    name: WorkerMetricNames.busReconnects,
    help: 'Reconnections of this process to NATS (after a node was lost or restarted).',
    registers: [registry],
  });
  const drain = new Histogram({
    name: WorkerMetricNames.drainDuration,
    help: 'Seconds from the start of a stop (SIGTERM) to the end of the drain.',
    buckets: [0.1, 0.5, 1, 2, 5, 10, 15, 20, 30, 60],
    registers: [registry],
  });
  return { reconnected: () => reconnects.inc(), drained: (seconds) => drain.observe(seconds) };
}

/** What a worker's jobs record as they run. */
export type WorkerMetrics = {
  /** Seconds a job waited in its stream before its first delivery. */
  queueWait: (seconds: number) => void;
  /** Seconds one provider call (a step of a job) took. */
  step: (step: string, seconds: number) => void;
  /** Seconds from a tab's creation to `ready` (observed where a tab turns ready). */
  timeToReady: (seconds: number) => void;
};

/** The consumer's own counts, as JetStream's consumer info reports them. */
export type ConsumerCounts = { num_pending: number; num_ack_pending: number };

export type WorkerMetricsOptions = {
  consumer: string;
  provider: string;
  /** The worker's counters; read at scrape time, so the metrics cannot drift from them. */
  stats: () => WorkerStats;
  /** The consumer's state, read at scrape time (bounded by `consumerInfoTimeoutMs`). */
  consumerInfo: () => Promise<ConsumerCounts>;
  consumerInfoTimeoutMs?: number;
};

const outcomes = ['succeeded', 'retried', 'failed', 'poison'] as const;
// From a few ms (sim, a warm queue) to minutes (a backlog, a slow cloud sandbox).
const secondsBuckets = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

const withTimeout = <T>(p: Promise<T>, ms: number): Promise<T> =>
  new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer in ${ms} ms`)), ms);
    p.then(resolve, reject).finally(() => clearTimeout(timer));
  });

/**
 * Exports a worker's metrics (names in libs/contracts WorkerMetricNames): jobs by outcome and in
 * flight, its consumer's queue depth and ack-pending, and the histograms its jobs feed through
 * the returned recorder. The registry's default label `service` names the worker.
 */
export function registerWorkerMetrics(registry: Registry, opts: WorkerMetricsOptions): WorkerMetrics {
  const { consumer, provider } = opts;
  new Counter({
    name: WorkerMetricNames.jobs,
    help: 'Jobs this process ended, by outcome: succeeded, retried (failed, runs again), failed (for good), poison (undecodable).',
    labelNames: ['outcome'],
    registers: [registry],
    collect() {
      this.reset();
      const stats = opts.stats();
      for (const outcome of outcomes) this.inc({ outcome }, stats[outcome]);
    },
  });
  new Gauge({
    name: WorkerMetricNames.jobsInFlight,
    help: 'Jobs this process is running now.',
    registers: [registry],
    collect() {
      this.set(opts.stats().inFlight);
    },
  });
  // Read at scrape time; a scrape while NATS is away shows no value rather than a stale one. The
  // two gauges below are collected together and share the one consumer-info request under way.
  let reading: Promise<ConsumerCounts | null> | null = null;
  const readCounts = (): Promise<ConsumerCounts | null> => {
    reading ??= withTimeout(opts.consumerInfo(), opts.consumerInfoTimeoutMs ?? 2000)
      .catch(() => null)
      .finally(() => {
        reading = null;
      });
    return reading;
  };
  new Gauge({
    name: WorkerMetricNames.consumerPending,
    help: 'Messages of the consumer not yet delivered to any worker (queue depth).',
    labelNames: ['consumer'],
    registers: [registry],
    async collect() {
      const c = await readCounts();
      this.reset();
      if (c) this.set({ consumer }, c.num_pending);
    },
  });
  new Gauge({
    name: WorkerMetricNames.consumerAckPending,
    help: 'Messages of the consumer delivered and not yet acknowledged (being worked on, or lost with a worker).',
    labelNames: ['consumer'],
    registers: [registry],
    async collect() {
      const c = await readCounts();
      this.reset();
      if (c) this.set({ consumer }, c.num_ack_pending);
    },
  });
  const queueWait = new Histogram({
    name: WorkerMetricNames.queueWait,
    help: 'Seconds a job waited in its stream before its first delivery to a worker.',
    labelNames: ['provider'],
    buckets: secondsBuckets,
    registers: [registry],
  });
  const step = new Histogram({
    name: WorkerMetricNames.stepDuration,
    help: 'Seconds per provider call of a job (provision, createSession, destroySandbox, ...).',
    labelNames: ['provider', 'step'],
    buckets: secondsBuckets,
    registers: [registry],
  });
  const timeToReady = new Histogram({
    name: WorkerMetricNames.timeToReady,
    help: 'Seconds from a tab’s creation to ready.',
    buckets: secondsBuckets,
    registers: [registry],
  });
  return {
    queueWait: (seconds) => queueWait.observe({ provider }, Math.max(0, seconds)),
    step: (name, seconds) => step.observe({ provider, step: name }, seconds),
    timeToReady: (seconds) => timeToReady.observe(Math.max(0, seconds)),
  };
}

/**
 * The provider with every asynchronous call timed as a step (`provision`, `createSession`, ...).
 * Methods run on the provider itself, so its private state keeps working; `close` is not a step.
 */
export function timedProvider<P extends object>(provider: P, metrics: WorkerMetrics): P {
  return new Proxy(provider, {
    get(target, prop) {
      const value = Reflect.get(target, prop);
      if (typeof value !== 'function' || typeof prop !== 'string' || prop === 'close') return value;
      return (...args: unknown[]) => {
        const t0 = performance.now();
        const out = (value as (...a: unknown[]) => unknown).apply(target, args);
        if (out instanceof Promise) return out.finally(() => metrics.step(prop, (performance.now() - t0) / 1000));
        return out;
      };
    },
  });
}
