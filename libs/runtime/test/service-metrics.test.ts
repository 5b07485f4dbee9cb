import { describe, expect, it } from 'vitest';
import { createMetricsRegistry, registerWorkerMetrics, type WorkerStats } from '../src/index.js';

describe('service metrics', () => {
  it("exports a worker's stats by outcome and in flight, read at scrape time", async () => {
    const registry = createMetricsRegistry('provisioner');
    const stats: WorkerStats = { inFlight: 2, started: 9, succeeded: 5, retried: 3, failed: 1, poison: 0 };
    registerWorkerMetrics(registry, 'provisioner', stats);
    const line = (text: string, outcome: string) =>
      text.split('\n').find((l) => l.startsWith('tabmesh_worker_jobs_total{') && l.includes(`outcome="${outcome}"`));

    let text = await registry.metrics();
    expect(line(text, 'succeeded')).toMatch(/ 5$/);
    expect(line(text, 'retried')).toMatch(/ 3$/);
    expect(line(text, 'failed')).toMatch(/ 1$/);
    expect(line(text, 'poison')).toMatch(/ 0$/);
    expect(text).toMatch(/^tabmesh_worker_jobs_in_flight\{consumer="provisioner",service="provisioner"\} 2$/m);
    expect(text).toMatch(/^process_resident_memory_bytes\{service="provisioner"\} \d+/m);

    stats.succeeded = 6;
    stats.inFlight = 0;
    text = await registry.metrics();
    expect(line(text, 'succeeded')).toMatch(/ 6$/);
    expect(text).toMatch(/^tabmesh_worker_jobs_in_flight\{consumer="provisioner",service="provisioner"\} 0$/m);
  });
});
