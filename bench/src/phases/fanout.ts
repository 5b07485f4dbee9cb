import { decode, type TabRecord, TabRecordSchema, TabState, tabKey } from '@tabmesh/contracts';
import type { Bus } from '@tabmesh/runtime';
import type { ServiceProcess } from '@tabmesh/testkit';
import type { Pool } from 'undici';
import { benchAuth } from '../http-client.js';
import { rssMiB } from '../machine.js';
import { epochMs, type Summary, sleep, summarize } from '../stats.js';
import { DelayRecorder, openClients } from '../ws-clients.js';

export type MeshFanoutResult = {
  subscribers: number;
  changes: number;
  received: number;
  latency: Summary;
  gatewayRssMiB: { before: number; withSockets: number };
};

export type ManyTasksResult = {
  tasks: number;
  subscribersPerTask: number;
  changesPerSecond: number;
  received: number;
  expected: number;
  latency: Summary;
};

const encoder = new TextEncoder();

async function createTab(pool: Pool, org: string, task: string): Promise<string> {
  const res = await pool.request({
    method: 'POST',
    path: `/v1/orgs/${org}/tasks/${task}/tabs`,
    body: '{}',
    headers: { 'content-type': 'application/json', authorization: benchAuth },
  });
  const body = (await res.body.json()) as { tab?: { id: string } };
  if (res.statusCode !== 201 || !body.tab) throw new Error(`create: HTTP ${res.statusCode}`);
  return body.tab.id;
}

async function waitReady(bus: Bus, key: string): Promise<TabRecord> {
  for (let i = 0; i < 300; i++) {
    const e = await bus.tabs.get(key);
    if (e && e.operation === 'PUT') {
      const tab = decode(TabRecordSchema, e.value, 'tab');
      if (tab.state === TabState.Ready) return tab;
    }
    await sleep(50);
  }
  throw new Error(`tab ${key} never became ready`);
}

/** Writes the tab with a stamped title straight to KV: the change the gateway must fan out. */
function stampedPut(bus: Bus, key: string, tab: TabRecord): Promise<number> {
  const t = epochMs();
  return bus.tabs.put(
    key,
    encoder.encode(JSON.stringify({ ...tab, title: `fanout:${t}:`, updatedAt: new Date().toISOString() })),
  );
}

/**
 * `subscribers` WebSocket clients on one task; `changes` KV writes of its tab, each stamped with
 * the time it was written; every client measures how late each change reaches it. The gateway's
 * memory is read while all the sockets are open.
 */
export async function measureMeshFanout(
  bus: Bus,
  pool: Pool,
  gateway: ServiceProcess,
  wsUrl: string,
  opts: { subscribers: number; changes: number; gapMs: number },
): Promise<{
  result: MeshFanoutResult;
  close: () => Promise<void>;
  recorder: DelayRecorder;
  sockets: import('ws').WebSocket[];
}> {
  const org = 'fan';
  const task = `one-${opts.subscribers}`;
  const id = await createTab(pool, org, task);
  const key = tabKey(org, task, id);
  const tab = await waitReady(bus, key);
  const before = rssMiB(gateway.pid);
  const recorder = new DelayRecorder();
  let snapshots = 0;
  const subscribe = JSON.stringify({ op: 'subscribe', org, task });
  const clients = await openClients(wsUrl, opts.subscribers, {
    onOpen: (ws) => ws.send(subscribe),
    onMessage: (data) => {
      if (data.includes('"snapshot"')) snapshots++;
      else recorder.record(data);
    },
  });
  for (let i = 0; i < 600 && snapshots < opts.subscribers; i++) await sleep(50);
  if (snapshots < opts.subscribers)
    throw new Error(`only ${snapshots} of ${opts.subscribers} subscribers got their snapshot`);
  await sleep(500);
  const withSockets = rssMiB(gateway.pid);
  recorder.take();
  for (let i = 0; i < opts.changes; i++) {
    await stampedPut(bus, key, tab);
    await sleep(opts.gapMs);
  }
  await sleep(1000);
  const samples = recorder.take();
  return {
    result: {
      subscribers: opts.subscribers,
      changes: opts.changes,
      received: samples.length,
      latency: summarize(samples),
      gatewayRssMiB: { before, withSockets },
    },
    close: clients.close,
    recorder,
    sockets: clients.sockets,
  };
}

/**
 * The open sockets also subscribe to one of `tasks` tasks each; changes are written to random
 * tasks at a steady rate, so every frame goes to a few sockets and many topics are live at once.
 */
export async function measureManyTasks(
  bus: Bus,
  pool: Pool,
  sockets: import('ws').WebSocket[],
  recorder: DelayRecorder,
  opts: { tasks: number; changesPerSecond: number; durationMs: number },
): Promise<ManyTasksResult> {
  const org = 'fan';
  const keys: Array<{ key: string; tab: TabRecord }> = [];
  for (let i = 0; i < opts.tasks; i += 50) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(50, opts.tasks - i) }, async (_, j) => {
        const task = `many-${i + j}`;
        const id = await createTab(pool, org, task);
        return { task, id };
      }),
    );
    for (const { task, id } of batch) keys.push({ key: tabKey(org, task, id), tab: { id } as TabRecord });
  }
  for (const k of keys) k.tab = await waitReady(bus, k.key);
  for (const [i, ws] of sockets.entries())
    ws.send(JSON.stringify({ op: 'subscribe', org, task: `many-${i % opts.tasks}` }));
  await sleep(3000);
  recorder.take();
  const total = Math.round((opts.changesPerSecond * opts.durationMs) / 1000);
  const gap = 1000 / opts.changesPerSecond;
  const start = performance.now();
  for (let i = 0; i < total; i++) {
    const wait = start + i * gap - performance.now();
    if (wait > 1) await sleep(wait);
    const k = keys[i % keys.length]!;
    void stampedPut(bus, k.key, k.tab);
  }
  await sleep(1500);
  const samples = recorder.take();
  const perTask = Math.floor(sockets.length / opts.tasks);
  return {
    tasks: opts.tasks,
    subscribersPerTask: perTask,
    changesPerSecond: opts.changesPerSecond,
    received: samples.length,
    expected: total * perTask,
    latency: summarize(samples),
  };
}
