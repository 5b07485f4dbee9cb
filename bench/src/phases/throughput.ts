import { KvWatchInclude } from '@nats-io/kv';
import { decode, Subjects, TaskProvisioning, TaskRecordSchema } from '@tabmesh/contracts';
import { ServiceName } from '@tabmesh/testkit';
import type { BenchMesh } from '../mesh.js';
import { sleep } from '../stats.js';

export type ThroughputResult = {
  processes: number;
  concurrencyPerProcess: number;
  provisionMs: number;
  tasks: number;
  provisioned: number;
  /** Tasks provisioned per second between the 10th and the 90th percentile completion. */
  perSecond: number;
  /** What the processes could do with zero overhead: processes × concurrency / latency. */
  idealPerSecond: number;
};

const encoder = new TextEncoder();

/**
 * Starts `processes` provisioners on the one durable consumer, then creates one tab on each of
 * `tasks` fresh tasks as fast as the registry takes them, and times the provisionings.
 */
export async function measureThroughput(
  mesh: BenchMesh,
  opts: { processes: number; concurrency: number; provisionMs: number; tasks: number },
): Promise<ThroughputResult> {
  const workers = await mesh.add(...Array.from({ length: opts.processes }, () => ServiceName.Provisioner));
  const org = `tp${opts.processes}`;
  const done: number[] = [];
  const watch = await mesh.bus.tasks.watch({ key: `${org}.>`, include: KvWatchInclude.UpdatesOnly });
  void (async () => {
    for await (const e of watch) {
      if (e.operation !== 'PUT') continue;
      const task = decode(TaskRecordSchema, e.value, 'task');
      if (task.state === TaskProvisioning.Provisioned) done.push(performance.now());
    }
  })();
  let next = 0;
  const creator = async () => {
    while (next < opts.tasks) {
      const i = next++;
      const payload = encoder.encode(JSON.stringify({ v: 1, org, task: `t${i}` }));
      await mesh.nc.request(Subjects.tabCreate, payload, { timeout: 10_000 });
    }
  };
  await Promise.all(Array.from({ length: 32 }, creator));
  const deadline = Date.now() + 120_000;
  while (done.length < opts.tasks && Date.now() < deadline) await sleep(100);
  watch.stop();
  await Promise.all(workers.map((w) => mesh.remove(w)));
  const sorted = done.sort((a, b) => a - b);
  const lo = Math.floor(sorted.length * 0.1);
  const hi = Math.max(lo + 1, Math.ceil(sorted.length * 0.9) - 1);
  const span = (sorted[hi]! - sorted[lo]!) / 1000;
  return {
    processes: opts.processes,
    concurrencyPerProcess: opts.concurrency,
    provisionMs: opts.provisionMs,
    tasks: opts.tasks,
    provisioned: sorted.length,
    perSecond: Math.round(((hi - lo) / span) * 10) / 10,
    idealPerSecond: Math.round((opts.processes * opts.concurrency * 1000) / opts.provisionMs),
  };
}
