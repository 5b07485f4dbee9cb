import { type TabState, TabState as TabStates } from '@tabmesh/contracts';
import { testToken } from '@tabmesh/testkit';
import type WebSocket from 'ws';
import { type BusTraffic, busPerRequest, type ConnzSnapshot } from '../bus-traffic.js';
import { httpPool } from '../http-client.js';
import type { KernelCounters } from '../machine.js';
import { kernelPerRequest, perRequest } from '../mesh.js';
import { runOpenLoop } from '../open-loop.js';
import type { Layout } from '../options.js';
import { epochMs, type Summary, sleep, summarize } from '../stats.js';
import { openClients } from '../ws-clients.js';

/** Whole tab lifecycles on fresh tasks: create → provision → session → ready → close. */
export type LifecycleResult = {
  rate: number;
  /** How the services ran (see Layout); results from before layouts were measured were `processes`. */
  layout?: Layout;
  subscribersPerTask: number;
  tabsPerTask: number;
  seconds: number;
  /** Creates scheduled. */
  tabs: number;
  achievedRate: number;
  /** POST scheduled → 201. */
  create: Summary;
  /** POST scheduled → `ready` frame at the task's first subscriber. */
  timeToReady: Summary;
  /** Change written (the record's `updatedAt`) → its `tab` frame at each subscriber, every transition. */
  fanout: Summary;
  ready: number;
  /** Tabs not ready within `lateMs` of their scheduled create (never ready included). */
  late: number;
  lateMs: number;
  /** Failed creates and closes, `error` tabs and error frames. */
  errors: number;
  errorSamples: string[];
  /** CPU milliseconds each process kind spent per tab, from /proc/<pid>/stat over the whole run. */
  cpuMsPerTab: Record<string, number>;
  /** The mesh's processes summed (the load generator, `bench`, left out). */
  cpuMsPerTabMesh: number;
  /**
   * Bus messages and bytes per tab by process kind, from nats-server's `/connz` over the same window
   * as the CPU: deterministic where CPU is noisy. `bench` is every connection not named after a service.
   */
  busPerTab: Record<string, BusTraffic>;
  /** The baseline only: Redis commands per tab over the same window (`INFO commandstats`). */
  redisCommandsPerTab?: number;
  /** Read and write system calls and context switches per tab by process kind, over the CPU's window. */
  kernelPerTab?: Record<string, KernelCounters>;
};

export type LifecycleOptions = {
  rate: number;
  layout: Layout;
  seconds: number;
  subscribers: number;
  tabsPerTask?: number;
  lateMs?: number;
  /** Task ids are `${label}-${n}`: fresh for every run. */
  label: string;
};

/**
 * What a lifecycle run drives and measures: the gateway's addresses, and a measurement of the CPU
 * (and, on the mesh, the bus traffic) of every process behind them over a run.
 */
export type LifecycleTarget = {
  urls: { http: string; ws: string };
  measure<T>(fn: () => Promise<T>): Promise<{
    value: T;
    cpu: Record<string, number>;
    kernel?: Record<string, KernelCounters>;
    bus: { before: ConnzSnapshot; after: ConnzSnapshot } | null;
    /** Commands the store ran, where it is not NATS (the baseline's Redis). */
    storeCommands?: number;
  }>;
};

type TabEntry = { task: number; scheduled: number; ready: number | null; done: boolean };
type TaskEntry = { name: string; open: number; auth: string };

/** Sockets per subscriber slot: each subscribe goes to one of them, round robin over tasks. */
const SocketsPerSlot = 16;
/** Tokens the creates and closes are spread over: per-token rate limits stay on, and none is reached. */
const HttpTokens = 64;

class Recorder {
  errors = 0;
  errorSamples: string[] = [];
  fanout: number[] = [];
  ttr: number[] = [];
  error(what: string): void {
    this.errors++;
    if (this.errorSamples.length < 5) this.errorSamples.push(what);
  }
}

/**
 * One open-loop run on a running mesh. Tab `i` belongs to task `i / tabsPerTask`; the first create of
 * a task subscribes its subscribers (one socket each); each tab is closed (DELETE) as soon as its
 * `ready` frame reaches the first subscriber, and a task is unsubscribed once all its tabs are done.
 */
export async function measureLifecycle(
  target: LifecycleTarget,
  opts: LifecycleOptions,
  measured = true,
): Promise<LifecycleResult> {
  const tabsPerTask = opts.tabsPerTask ?? 10;
  const lateMs = opts.lateMs ?? 12_000;
  const urls = target.urls;
  const pool = httpPool(urls.http, 128);
  const httpAuth = Array.from({ length: HttpTokens }, (_, i) => `Bearer ${testToken({ sub: `bench-http-${i}` })}`);
  const rec = new Recorder();
  const tabs = new Map<string, TabEntry>();
  const earlyReady = new Map<string, number>();
  const tasks: TaskEntry[] = [];
  const closes: Promise<void>[] = [];
  let settled = 0;

  const wsBase = new URL(urls.ws);
  const nSockets = SocketsPerSlot * opts.subscribers;
  const sockets: WebSocket[] = new Array(nSockets);
  const pools = await Promise.all(
    Array.from({ length: nSockets }, (_, c) => {
      const url = new URL(wsBase);
      url.searchParams.set('access_token', testToken({ sub: `bench-ws-${c}` }));
      return openClients(url.toString(), 1, { onMessage: (data) => onFrame(data, c) });
    }),
  );
  pools.forEach((p, c) => {
    sockets[c] = p.sockets[0] as WebSocket;
  });
  const socketsOf = (task: number): WebSocket[] =>
    Array.from(
      { length: opts.subscribers },
      (_, s) => sockets[s * SocketsPerSlot + (task % SocketsPerSlot)] as WebSocket,
    );
  /** The first subscriber of a task sees its tabs ready and closes them. */
  const isFirst = (task: number, socket: number): boolean => socket === task % SocketsPerSlot;

  const finish = (e: TabEntry) => {
    if (e.done) return;
    e.done = true;
    settled++;
    const t = tasks[e.task];
    if (t && --t.open === 0) {
      const frame = JSON.stringify({ op: 'unsubscribe', org: 'bench', task: t.name });
      for (const ws of socketsOf(e.task)) ws.send(frame);
    }
  };

  const close = (id: string, e: TabEntry) => {
    const t = tasks[e.task];
    if (!t) return;
    closes.push(
      pool
        .request({
          method: 'DELETE',
          path: `/v1/orgs/bench/tasks/${t.name}/tabs/${id}`,
          headers: { authorization: t.auth },
          headersTimeout: 20_000,
          bodyTimeout: 20_000,
        })
        .then(async (res) => {
          await res.body.text();
          if (res.statusCode !== 202) rec.error(`close: HTTP ${res.statusCode}`);
        })
        .catch((err: unknown) => rec.error(`close: ${err instanceof Error ? err.message : String(err)}`))
        .finally(() => finish(e)),
    );
  };

  const onReady = (id: string, at: number) => {
    const e = tabs.get(id);
    if (!e) {
      earlyReady.set(id, at);
      return;
    }
    if (e.ready !== null || e.done) return;
    e.ready = at;
    rec.ttr.push(at - e.scheduled);
    close(id, e);
  };

  const onTab = (tab: { id: string; state: TabState; updatedAt: string }, socket: number, now: number) => {
    const e = tabs.get(tab.id);
    const task = e?.task;
    if (tab.state === TabStates.Ready) {
      if (task === undefined || isFirst(task, socket)) onReady(tab.id, now);
    } else if (tab.state === TabStates.Error && e && !e.done && (task === undefined || isFirst(task, socket))) {
      rec.error(`tab ${tab.id} in error`);
      finish(e);
    }
  };

  function onFrame(data: Buffer, socket: number): void {
    const now = performance.now();
    const wall = epochMs();
    const frame = JSON.parse(data.toString('utf8')) as {
      type: string;
      tab?: { id: string; state: TabState; updatedAt: string };
      tabs?: Array<{ id: string; state: TabState; updatedAt: string }>;
      code?: string;
      detail?: string;
    };
    if (frame.type === 'tab' && frame.tab) {
      rec.fanout.push(wall - Date.parse(frame.tab.updatedAt));
      onTab(frame.tab, socket, now);
    } else if (frame.type === 'snapshot') {
      for (const tab of frame.tabs ?? []) onTab(tab, socket, now);
    } else if (frame.type === 'error') rec.error(`ws: ${frame.code}: ${frame.detail}`);
  }

  const run = async () => {
    const loop = await runOpenLoop({
      rate: opts.rate,
      durationMs: opts.seconds * 1000,
      fire: async (i, scheduled) => {
        const taskIndex = Math.floor(i / tabsPerTask);
        let t = tasks[taskIndex];
        if (!t) {
          t = { name: `${opts.label}-${taskIndex}`, open: 0, auth: httpAuth[taskIndex % HttpTokens] as string };
          tasks[taskIndex] = t;
          const frame = JSON.stringify({ op: 'subscribe', org: 'bench', task: t.name });
          for (const ws of socketsOf(taskIndex)) ws.send(frame);
        }
        t.open++;
        let id: string;
        try {
          const res = await pool.request({
            method: 'POST',
            path: `/v1/orgs/bench/tasks/${t.name}/tabs`,
            body: '{}',
            headers: { 'content-type': 'application/json', authorization: t.auth },
            headersTimeout: 20_000,
            bodyTimeout: 20_000,
          });
          const body = (await res.body.json()) as { tab?: { id: string } };
          if (res.statusCode !== 201 || !body.tab) throw new Error(`create: HTTP ${res.statusCode}`);
          id = body.tab.id;
        } catch (err) {
          // Counted by the open loop; the tab never exists, so it leaves its task's count.
          t.open--;
          settled++;
          throw err;
        }
        const e: TabEntry = { task: taskIndex, scheduled, ready: null, done: false };
        tabs.set(id, e);
        const early = earlyReady.get(id);
        if (early !== undefined) {
          earlyReady.delete(id);
          onReady(id, early);
        }
        return true;
      },
    });
    // Every tab gets until lateMs after the last scheduled create to become ready and be closed.
    const deadline = performance.now() + lateMs + 1000;
    while (settled < loop.sent && performance.now() < deadline) await sleep(50);
    await Promise.all(closes);
    await sleep(1000);
    return loop;
  };

  const {
    value: loop,
    cpu,
    kernel,
    bus,
    storeCommands,
  } = measured
    ? await target.measure(run)
    : { value: await run(), cpu: {} as Record<string, number>, kernel: undefined, bus: null, storeCommands: undefined };
  for (const p of pools) await p.close();
  await pool.close();

  let late = 0;
  let ready = 0;
  for (const e of tabs.values()) {
    if (e.ready !== null) ready++;
    if (e.ready === null || e.ready - e.scheduled > lateMs) late++;
  }
  late += loop.sent - loop.ok; // a create that failed is no tab ready in time either
  const cpuMsPerTab = perRequest(cpu, loop.sent);
  const mesh$ = Object.entries(cpuMsPerTab)
    .filter(([k]) => k !== 'bench')
    .reduce((s, [, v]) => s + v, 0);
  return {
    rate: opts.rate,
    layout: opts.layout,
    subscribersPerTask: opts.subscribers,
    tabsPerTask,
    seconds: opts.seconds,
    tabs: loop.sent,
    achievedRate: loop.achievedRate,
    create: loop.latency,
    timeToReady: summarize(rec.ttr),
    fanout: summarize(rec.fanout),
    ready,
    late,
    lateMs,
    errors: loop.errors + rec.errors,
    errorSamples: [...loop.errorSamples, ...rec.errorSamples].slice(0, 5),
    cpuMsPerTab,
    cpuMsPerTabMesh: Math.round(mesh$ * 1000) / 1000,
    busPerTab: bus ? busPerRequest(bus.before, bus.after, loop.sent) : {},
    ...(storeCommands !== undefined
      ? { redisCommandsPerTab: Math.round((storeCommands / loop.sent) * 100) / 100 }
      : {}),
    ...(kernel ? { kernelPerTab: kernelPerRequest(kernel, loop.sent) } : {}),
  };
}
