import { MeshHost, ServiceName } from '@tabmesh/testkit';
import { msgsInOut } from './bus-traffic.js';
import { measureKvWatchFloor, measureRequestFloors, measureUwsFloor, startFloorServer } from './floors.js';
import { httpPool } from './http-client.js';
import { BenchMesh, type MeshSettings } from './mesh.js';
import type { OpenLoopResult } from './open-loop.js';
import type { BenchOptions, Layout } from './options.js';
import { createAt, createSweep, holds, searchMaxRate } from './phases/create.js';
import { type ManyTasksResult, type MeshFanoutResult, measureManyTasks, measureMeshFanout } from './phases/fanout.js';
import { type LifecycleResult, type LifecycleTarget, measureLifecycle } from './phases/lifecycle.js';
import { measureOverhead } from './phases/overhead.js';
import { measureThroughput, type ThroughputResult } from './phases/throughput.js';
import { ReferenceBuild } from './reference/reference-build.js';
import type { BenchResults } from './results.js';
import { sleep } from './stats.js';

export const FloorRate = 1000;
export const Overhead = { provisionMs: 200, sessionMs: 50, rate: 20 } as const;
/** The issue's lifecycle conditions: the sim provider at 1,500 / 200 ms, everything else default. */
export const Lifecycle = { provisionMs: 1500, sessionMs: 200, tabsPerTask: 10, lateMs: 12_000 } as const;
export const Throughput = { provisionMs: 100, concurrency: 4, processes: [1, 2, 4] } as const;

const log = (text: string) => process.stderr.write(`[bench] ${text}\n`);

/** The sim latencies of the overhead phase, with `concurrency` jobs per worker process. */
const overheadEnv = (concurrency: number): Record<string, string> => ({
  TABMESH_SIM_PROVISION_MS: String(Overhead.provisionMs),
  TABMESH_SIM_SESSION_MS: String(Overhead.sessionMs),
  TABMESH_CONCURRENCY: String(concurrency),
});

type Ctx = { opts: BenchOptions; logDir: string; results: BenchResults };

function meshSettings(ctx: Ctx, env: Record<string, string>): MeshSettings {
  return {
    logDir: ctx.logDir,
    // The bench measures capacity (up to 10k sockets of one caller), not the per-token limits.
    env: { LOG_LEVEL: 'info', GATEWAY_RATE_LIMIT: '0', GATEWAY_MAX_SOCKETS_PER_TOKEN: '1000000', ...env },
    ...(ctx.opts.profileDir
      ? { profile: { dir: ctx.opts.profileDir, services: [ServiceName.Gateway, ServiceName.TabRegistry] } }
      : {}),
  };
}

async function withMesh<T>(ctx: Ctx, env: Record<string, string>, fn: (mesh: BenchMesh) => Promise<T>): Promise<T> {
  const mesh = await BenchMesh.start(meshSettings(ctx, env));
  try {
    return await fn(mesh);
  } finally {
    await mesh.stop();
  }
}

export async function runFloors(ctx: Ctx): Promise<void> {
  const { opts } = ctx;
  await withMesh(ctx, {}, async (mesh) => {
    const floor = await startFloorServer(mesh.url, mesh.adminEnv, ctx.logDir);
    try {
      log(`floors: request/reply, KV create, HTTP at ${FloorRate}/s`);
      const request = await measureRequestFloors(mesh.nc, floor, FloorRate, opts.rateMs, (run) =>
        mesh.withCpu(run, floor.child),
      );
      log('floors: KV put → watch');
      const kvWatch = await measureKvWatchFloor(mesh.nc, opts.quick ? 100 : 300, 5);
      const uws = [];
      for (const n of opts.fanoutSubscribers) {
        log(`floors: uWS publish → ${n} ws clients`);
        uws.push(await measureUwsFloor(mesh.nc, floor, n, opts.fanoutChanges, 300));
      }
      ctx.results.floors = { rate: FloorRate, request, kvWatch, uws };
    } finally {
      await floor.child.stop();
    }
  });
}

export async function runCreate(ctx: Ctx): Promise<void> {
  const { opts } = ctx;
  // The whole mesh, with workers wide enough that tabs do not pile up as pending: tab-registry's
  // queue observer does work for every pending tab each second, which would otherwise grow run by run.
  await withMesh(ctx, overheadEnv(256), async (mesh) => {
    const gateway = await mesh.addAll();
    const pool = httpPool(mesh.gatewayUrls(gateway).http, 128);
    const create = {
      pool,
      org: 'bench',
      tasks: 50,
      durationMs: opts.rateMs,
      settle: async () => void (await mesh.settle()),
      measure: (run: () => Promise<OpenLoopResult>) => mesh.withCpu(run),
    };
    log('create: warm-up');
    await createAt(create, 'warm', 200, 1500);
    log(`create: ${opts.rates.join(', ')}/s`);
    const rates = await createSweep(create, opts.rates, 'rate');
    const passing = rates.filter(holds).map((r) => r.rate);
    const from = Math.max(100, ...passing);
    log(`create: searching the highest rate with p99 < 50 ms from ${from}/s`);
    const maxRate = await searchMaxRate(create, from, opts.probeMs, opts.quick ? 2 : 4);
    await pool.close();
    ctx.results.create = { rates, maxRate };
  });
}

export async function runOverhead(ctx: Ctx): Promise<void> {
  // Workers wide enough (64 jobs each) that no job waits for a slot: this is the mesh's own
  // overhead, not queueing behind the default 8 jobs per process.
  await withMesh(ctx, overheadEnv(64), async (mesh) => {
    const gateway = await mesh.addAll();
    const pool = httpPool(mesh.gatewayUrls(gateway).http, 16);
    log(
      `overhead: fresh tasks at ${Overhead.rate}/s, sim provision ${Overhead.provisionMs} ms + session ${Overhead.sessionMs} ms`,
    );
    await measureOverhead(mesh.bus, pool, { ...Overhead, rate: 10, durationMs: 1000 }); // warm-up
    ctx.results.overhead = await measureOverhead(mesh.bus, pool, {
      ...Overhead,
      durationMs: ctx.opts.quick ? 4000 : 10_000,
    });
    await pool.close();
  });
}

export async function runFanout(ctx: Ctx): Promise<void> {
  const { opts } = ctx;
  const env = { TABMESH_SIM_PROVISION_MS: '50', TABMESH_SIM_SESSION_MS: '20' };
  await withMesh(ctx, env, async (mesh) => {
    const gateway = await mesh.addAll();
    const { http, ws: wsUrl } = mesh.gatewayUrls(gateway);
    const pool = httpPool(http, 16);
    const oneTask: MeshFanoutResult[] = [];
    let manyTasks: ManyTasksResult | undefined;
    for (const n of opts.fanoutSubscribers) {
      log(`fan-out: KV change → ${n} WebSocket subscribers of one task`);
      const run = await measureMeshFanout(mesh.bus, pool, gateway, wsUrl, {
        subscribers: n,
        changes: opts.fanoutChanges,
        gapMs: 300,
      });
      oneTask.push(run.result);
      if (n === Math.max(...opts.fanoutSubscribers)) {
        const tasks = Math.max(1, Math.round(n / 10));
        log(`fan-out: the same sockets over ${tasks} tasks, changes at 1000/s`);
        manyTasks = await measureManyTasks(mesh.bus, pool, run.sockets, run.recorder, {
          tasks,
          changesPerSecond: 1000,
          durationMs: opts.quick ? 2000 : 5000,
        });
      }
      await run.close();
    }
    await pool.close();
    ctx.results.fanout = { oneTask, ...(manyTasks ? { manyTasks } : {}) };
  });
}

export async function runThroughput(ctx: Ctx): Promise<void> {
  const { opts } = ctx;
  const env = {
    TABMESH_SIM_PROVISION_MS: String(Throughput.provisionMs),
    TABMESH_SIM_SESSION_MS: '20',
    TABMESH_CONCURRENCY: String(Throughput.concurrency),
  };
  await withMesh(ctx, env, async (mesh) => {
    await mesh.add(ServiceName.TabRegistry);
    const out: ThroughputResult[] = [];
    for (const processes of Throughput.processes) {
      const ideal = (processes * Throughput.concurrency * 1000) / Throughput.provisionMs;
      const tasks = Math.round(ideal * opts.throughputSeconds);
      log(`throughput: ${processes} provisioner process(es), ${tasks} tasks`);
      out.push(
        await measureThroughput(mesh, {
          processes,
          concurrency: Throughput.concurrency,
          provisionMs: Throughput.provisionMs,
          tasks,
        }),
      );
    }
    ctx.results.throughput = out;
  });
}

const LayoutText: Record<Layout, string> = {
  host: 'services in one process',
  processes: 'services in a process each',
  bullmq: 'the BullMQ + Redis reference build in one process',
  'bullmq-split': 'the BullMQ + Redis reference build, its API and its workers apart',
};

type Started = { target: LifecycleTarget & { settle(): Promise<unknown> }; stop(): Promise<void> };

/** A fresh mesh in `layout`, its gateway's addresses, and its CPU and bus counters. */
async function startLifecycleMesh(
  ctx: Ctx,
  env: Record<string, string>,
  layout: 'host' | 'processes',
  name: string,
): Promise<Started> {
  const { opts } = ctx;
  const settings: MeshSettings = {
    logDir: ctx.logDir,
    env,
    ...(opts.profileDir
      ? {
          profile: {
            dir: opts.profileDir,
            prefix: `${name}-`,
            services: [
              MeshHost,
              ServiceName.Gateway,
              ServiceName.TabRegistry,
              ServiceName.Provisioner,
              ServiceName.SessionCreator,
            ],
          },
        }
      : {}),
  };
  const mesh = await BenchMesh.start(settings);
  try {
    const gateway = layout === 'host' ? await mesh.addHost() : await mesh.addAll();
    const target = {
      urls: mesh.gatewayUrls(gateway),
      measure: <T>(fn: () => Promise<T>) => mesh.measureCpuAndBus(fn),
      settle: () => mesh.settle(),
    };
    return { target, stop: () => mesh.stop() };
  } catch (err) {
    await mesh.stop();
    throw err;
  }
}

/** The BullMQ + Redis reference build (bench/src/reference), fresh, with its Redis; `split`: API and workers apart. */
async function startReference(ctx: Ctx, env: Record<string, string>, split: boolean): Promise<Started> {
  const roles: Array<'all' | 'api' | 'workers'> = split ? ['api', 'workers'] : ['all'];
  const build = await ReferenceBuild.start({ logDir: ctx.logDir, env, roles });
  const target = {
    urls: build.urls,
    measure: <T>(fn: () => Promise<T>) => build.measure(fn),
    // Its queues hold no jobs once every warm-up tab is ready: a pause stands in for a settle.
    settle: () => sleep(3000),
  };
  return { target, stop: () => build.stop() };
}

/**
 * Whole lifecycles with default settings: a fresh mesh per run (nothing left from the one before),
 * tokens on and every limit at its default (creates spread over tokens so none is reached), the sim
 * provider at the issue's latencies; a short warm-up, then the measured run.
 */
export async function runLifecycle(ctx: Ctx): Promise<void> {
  const { opts } = ctx;
  const env = {
    TABMESH_SIM_PROVISION_MS: String(Lifecycle.provisionMs),
    TABMESH_SIM_SESSION_MS: String(Lifecycle.sessionMs),
  };
  const out: LifecycleResult[] = [];
  for (const { rate, subscribers, layout } of opts.lifecycle.runs) {
    const name = `lifecycle-${rate}-${subscribers}-${layout}`;
    const { target, stop } =
      layout === 'bullmq' || layout === 'bullmq-split'
        ? await startReference(ctx, env, layout === 'bullmq-split')
        : await startLifecycleMesh(ctx, env, layout, name);
    try {
      const base = { subscribers, layout, tabsPerTask: Lifecycle.tabsPerTask, lateMs: Lifecycle.lateMs };
      log(`lifecycle: warm-up at ${Math.min(rate, 50)}/s`);
      await measureLifecycle(target, { ...base, rate: Math.min(rate, 50), seconds: 2, label: `warm${rate}` }, false);
      await target.settle();
      log(
        `lifecycle: ${rate} creates/s for ${opts.lifecycle.seconds} s, ${subscribers} subscriber(s) per task, ${LayoutText[layout]}`,
      );
      const r = await measureLifecycle(target, {
        ...base,
        rate,
        seconds: opts.lifecycle.seconds,
        label: `run${rate}`,
      });
      log(
        `lifecycle ${rate}/s (${layout}): create p50 ${r.create.p50} p99 ${r.create.p99} ms; ready p50 ${r.timeToReady.p50} p99 ${r.timeToReady.p99} ms; fan-out p50 ${r.fanout.p50} p99 ${r.fanout.p99} ms; late ${r.late}, errors ${r.errors}; CPU ms/tab ${JSON.stringify(r.cpuMsPerTab)} (mesh ${r.cpuMsPerTabMesh}); ${r.redisCommandsPerTab !== undefined ? `Redis commands/tab ${r.redisCommandsPerTab}` : `bus msgs/tab in+out ${JSON.stringify(msgsInOut(r.busPerTab))}`}; io calls + switches/tab ${JSON.stringify(kernelInOneLine(r.kernelPerTab))}`,
      );
      out.push(r);
    } finally {
      await stop();
    }
  }
  ctx.results.lifecycle = out;
}

/** `{kind: "io calls+switches"}`, for the progress line. */
function kernelInOneLine(kernel: LifecycleResult['kernelPerTab']): Record<string, string> {
  return Object.fromEntries(Object.entries(kernel ?? {}).map(([k, v]) => [k, `${v.ioCalls}+${v.switches}`]));
}
