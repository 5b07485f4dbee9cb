import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { WorkerStats } from './worker.js';

/**
 * A service's own Prometheus registry (not prom-client's global one, so several services in one
 * test process do not share series), with the process metrics prom-client collects by default.
 */
export function createMetricsRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  return registry;
}

const outcomes = ['succeeded', 'retried', 'failed', 'poison'] as const;

/**
 * Exports a worker's counters. They are read from `stats` at scrape time, so the worker keeps one
 * set of numbers and the metrics cannot drift from them.
 */
export function registerWorkerMetrics(registry: Registry, consumer: string, stats: WorkerStats): void {
  new Counter({
    name: 'tabmesh_worker_jobs_total',
    help: 'Jobs this process ended, by outcome: succeeded, retried (failed, runs again), failed (for good), poison (undecodable).',
    labelNames: ['consumer', 'outcome'],
    registers: [registry],
    collect() {
      this.reset();
      for (const outcome of outcomes) this.inc({ consumer, outcome }, stats[outcome]);
    },
  });
  new Gauge({
    name: 'tabmesh_worker_jobs_in_flight',
    help: 'Jobs this process is running now.',
    labelNames: ['consumer'],
    registers: [registry],
    collect() {
      this.set({ consumer }, stats.inFlight);
    },
  });
}
