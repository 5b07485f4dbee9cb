import { WorkerMetricNames } from '@tabmesh/contracts';
import { describe, expect, it } from 'vitest';
import {
  type ConsumerCounts,
  createMetricsRegistry,
  registerLifecycleMetrics,
  registerWorkerMetrics,
  timedProvider,
  type WorkerStats,
} from '../src/index.js';

const series = (text: string, name: string) => text.split('\n').filter((l) => l.startsWith(`${name}{`));
/** The value of the series `name` carrying every label of `labels` (in whatever order prom-client writes them). */
const value = (text: string, name: string, labels: Record<string, string>): number | undefined => {
  const line = series(text, name).find((l) => Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)));
  return line === undefined ? undefined : Number(line.split(' ').at(-1));
};

describe('service metrics', () => {
  it("exports a worker's stats by outcome and in flight, and its consumer's counts, read at scrape time", async () => {
    const registry = createMetricsRegistry('provisioner');
    const stats: WorkerStats = { inFlight: 2, started: 9, succeeded: 5, retried: 3, failed: 1, poison: 0 };
    let counts: ConsumerCounts | Error = { num_pending: 7, num_ack_pending: 2 };
    let infoReads = 0;
    registerWorkerMetrics(registry, {
      consumer: 'provisioner',
      provider: 'sim',
      stats: () => stats,
      consumerInfo: async () => {
        infoReads++;
        if (counts instanceof Error) throw counts;
        return counts;
      },
    });
    const line = (text: string, outcome: string) =>
      series(text, WorkerMetricNames.jobs).find((l) => l.includes(`outcome="${outcome}"`));

    let text = await registry.metrics();
    expect(infoReads).toBe(1); // both consumer gauges from one request
    expect(line(text, 'succeeded')).toMatch(/ 5$/);
    expect(line(text, 'retried')).toMatch(/ 3$/);
    expect(line(text, 'failed')).toMatch(/ 1$/);
    expect(line(text, 'poison')).toMatch(/ 0$/);
    expect(text).toMatch(/^tabmesh_jobs_in_flight\{service="provisioner"\} 2$/m);
    expect(text).toMatch(/^tabmesh_consumer_pending\{consumer="provisioner",service="provisioner"\} 7$/m);
    expect(text).toMatch(/^tabmesh_consumer_ack_pending\{consumer="provisioner",service="provisioner"\} 2$/m);
    expect(text).toMatch(/^process_resident_memory_bytes\{service="provisioner"\} \d+/m);

    stats.succeeded = 6;
    stats.inFlight = 0;
    counts = new Error('nats away');
    text = await registry.metrics();
    expect(infoReads).toBe(2);
    expect(line(text, 'succeeded')).toMatch(/ 6$/);
    expect(text).toMatch(/^tabmesh_jobs_in_flight\{service="provisioner"\} 0$/m);
    // No consumer info, no value: a stale queue depth would mislead a scaler.
    expect(series(text, WorkerMetricNames.consumerPending)).toEqual([]);
  });

  it('times every asynchronous provider call as a step, and records queue wait, time to ready, reconnects and drains', async () => {
    const registry = createMetricsRegistry('session-creator');
    const recorder = registerWorkerMetrics(registry, {
      consumer: 'session-creator',
      provider: 'sim',
      stats: () => ({ inFlight: 0, started: 0, succeeded: 0, retried: 0, failed: 0, poison: 0 }),
      consumerInfo: async () => ({ num_pending: 0, num_ack_pending: 0 }),
    });
    class Provider {
      readonly name = 'sim';
      #made = 0;
      async createSession(): Promise<number> {
        return ++this.#made;
      }
      sessionIdOf(): string {
        return `s${this.#made}`;
      }
      async close(): Promise<void> {}
    }
    const provider = timedProvider(new Provider(), recorder);
    expect(await provider.createSession()).toBe(1);
    expect(provider.sessionIdOf()).toBe('s1');
    await provider.close();
    recorder.queueWait(0.2);
    recorder.timeToReady(1.5);
    const lifecycle = registerLifecycleMetrics(registry);
    lifecycle.reconnected();
    lifecycle.drained(0.3);

    const text = await registry.metrics();
    const sc = { service: 'session-creator' };
    expect(value(text, 'tabmesh_step_duration_seconds_count', { ...sc, provider: 'sim', step: 'createSession' })).toBe(
      1,
    );
    expect(text).not.toMatch(/step="(close|sessionIdOf)"/);
    expect(value(text, 'tabmesh_queue_wait_seconds_count', { ...sc, provider: 'sim' })).toBe(1);
    expect(value(text, 'tabmesh_time_to_ready_seconds_count', sc)).toBe(1);
    expect(value(text, 'tabmesh_bus_reconnects_total', sc)).toBe(1);
    expect(value(text, 'tabmesh_drain_duration_seconds_count', sc)).toBe(1);
  });
});
