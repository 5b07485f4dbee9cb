import { KvWatchInclude } from '@nats-io/kv';
import { decode, TabRecordSchema, TabState } from '@tabmesh/contracts';
import type { Bus } from '@tabmesh/runtime';
import type { Pool } from 'undici';
import { benchAuth } from '../http-client.js';
import { runOpenLoop } from '../open-loop.js';
import { type Summary, sleep, summarize } from '../stats.js';

export type OverheadResult = {
  providerMs: number;
  tabs: number;
  ready: number;
  /** Client view: POST scheduled → `ready` seen on a KV watch, minus the provider's latency. */
  overhead: Summary;
  timeToReady: Summary;
  /** Server clocks: readyAt − createdAt of the record, minus the provider's latency (ms resolution). */
  serverOverhead: Summary;
};

/**
 * Creates tabs on fresh tasks, so each one waits for a provisioning and a session, and takes what
 * the time to `ready` exceeds the sim provider's own latency by: the mesh's overhead.
 */
export async function measureOverhead(
  bus: Bus,
  pool: Pool,
  opts: { rate: number; durationMs: number; provisionMs: number; sessionMs: number },
): Promise<OverheadResult> {
  const providerMs = opts.provisionMs + opts.sessionMs;
  const sentAt = new Map<string, number>();
  const readyAt = new Map<string, number>();
  const server: number[] = [];
  // Tab keys only (`{org}.{task}.{tab}`): `{org}.{task}` is a task's progress entry.
  const watch = await bus.tabs.watch({ key: 'ovh.*.*', include: KvWatchInclude.UpdatesOnly });
  void (async () => {
    for await (const e of watch) {
      if (e.operation !== 'PUT') continue;
      const t = performance.now();
      const tab = decode(TabRecordSchema, e.value, 'tab');
      if (tab.state !== TabState.Ready || readyAt.has(tab.id)) continue;
      readyAt.set(tab.id, t);
      if (tab.readyAt) server.push(Date.parse(tab.readyAt) - Date.parse(tab.createdAt) - providerMs);
    }
  })();
  const run = Date.now().toString(36);
  const result = await runOpenLoop({
    rate: opts.rate,
    durationMs: opts.durationMs,
    fire: async (i, scheduledAt) => {
      const res = await pool.request({
        method: 'POST',
        path: `/v1/orgs/ovh/tasks/${run}-${i}/tabs`,
        body: '{}',
        headers: { 'content-type': 'application/json', authorization: benchAuth },
      });
      const body = (await res.body.json()) as { tab?: { id: string } };
      if (res.statusCode !== 201 || !body.tab) throw new Error(`HTTP ${res.statusCode}`);
      sentAt.set(body.tab.id, scheduledAt);
      return true;
    },
  });
  const deadline = Date.now() + 30_000;
  while (readyAt.size < result.ok && Date.now() < deadline) await sleep(100);
  watch.stop();
  const ttr: number[] = [];
  for (const [id, sent] of sentAt) {
    const ready = readyAt.get(id);
    if (ready !== undefined) ttr.push(ready - sent);
  }
  return {
    providerMs,
    tabs: result.sent,
    ready: ttr.length,
    overhead: summarize(ttr.map((t) => t - providerMs)),
    timeToReady: summarize(ttr),
    serverOverhead: summarize(server),
  };
}
