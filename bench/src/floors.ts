import { join } from 'node:path';
import { jetstream } from '@nats-io/jetstream';
import { Kvm, KvWatchInclude } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { ServiceProcess } from '@tabmesh/testkit';
import { FloorSubjects, FloorWsPath } from './floor-names.js';
import { httpPool, postJson } from './http-client.js';
import { type OpenLoopResult, runOpenLoop } from './open-loop.js';
import { epochMs, type Summary, sleep, summarize } from './stats.js';
import { DelayRecorder, openClients } from './ws-clients.js';

export type FloorServer = {
  child: ServiceProcess<'floor-server'>;
  /** hono on the gateway's HTTP server (uWS). */
  httpPort: number;
  /** The same hono app on @hono/node-server, which the gateway ran on before. */
  nodeHttpPort: number;
  wsPort: number;
};

/** The floor server as its own process, ready once it announced its ports. */
export async function startFloorServer(
  natsUrl: string,
  auth: Record<string, string>,
  logDir: string,
): Promise<FloorServer> {
  const child = await ServiceProcess.start({
    service: 'floor-server',
    script: 'bench/src/floor-server.ts',
    env: { NATS_URL: natsUrl, ...auth },
    logFile: join(logDir, 'floor-server.log'),
    captureLogs: false,
  });
  const { http, nodeHttp, ws } = child.ports;
  if (http === undefined || nodeHttp === undefined || ws === undefined)
    throw new Error('floor server: no ports in its ready signal');
  return { child, httpPort: http, nodeHttpPort: nodeHttp, wsPort: ws };
}

/** About the size of a tab record, so KV floors move as many bytes as the mesh does. */
const recordSized = new TextEncoder().encode(JSON.stringify({ pad: 'x'.repeat(560) }));
const requestSized = new TextEncoder().encode(
  JSON.stringify({ v: 1, org: 'bench', task: 'task-0001', pad: 'x'.repeat(40) }),
);

export type RequestFloors = {
  natsRequestReply: OpenLoopResult;
  kvCreate: OpenLoopResult;
  /** hono on the gateway's HTTP server: the HTTP part of a create's floor. */
  http: OpenLoopResult;
  /** hono on @hono/node-server, for comparison (absent from results before the gateway moved off it). */
  nodeServerHttp?: OpenLoopResult;
};

/** The three parts of a create, each alone, at `rate` for `durationMs`. */
export async function measureRequestFloors(
  nc: NatsConnection,
  floor: FloorServer,
  rate: number,
  durationMs: number,
  measure: (run: () => Promise<OpenLoopResult>) => Promise<OpenLoopResult> = (run) => run(),
): Promise<RequestFloors> {
  const echo = async () => {
    await nc.request(FloorSubjects.echo, requestSized, { timeout: 10_000 });
    return true;
  };
  // Every floor gets a second unmeasured at the same rate first, as the creates get their warm-up.
  await runOpenLoop({ rate, durationMs: 1000, fire: echo });
  const natsRequestReply = await measure(() => runOpenLoop({ rate, durationMs, fire: echo }));
  const kv = await new Kvm(jetstream(nc)).create(`bench_floor_${Date.now()}`, { history: 1 });
  const run = Date.now().toString(36);
  const create = (phase: string) => async (i: number) => {
    await kv.create(`k.${run}.${phase}.${i}`, recordSized);
    return true;
  };
  await runOpenLoop({ rate, durationMs: 1000, fire: create('warm') });
  const kvCreate = await measure(() => runOpenLoop({ rate, durationMs, fire: create('run') }));
  await kv.destroy();
  const post = async (port: number) => {
    const pool = httpPool(`http://127.0.0.1:${port}`);
    // Open the connections before measuring, as the create phases do.
    await runOpenLoop({ rate, durationMs: 1000, fire: () => postJson(pool, '/echo', '{}', 201) });
    const res = await measure(() => runOpenLoop({ rate, durationMs, fire: () => postJson(pool, '/echo', '{}', 201) }));
    await pool.close();
    return res;
  };
  const http = await post(floor.httpPort);
  const nodeServerHttp = await post(floor.nodeHttpPort);
  return { natsRequestReply, kvCreate, http, nodeServerHttp };
}

/** KV put to watch delivery, in one process: the floor under the gateway's fan-out input. */
export async function measureKvWatchFloor(nc: NatsConnection, count: number, gapMs: number): Promise<Summary> {
  const kv = await new Kvm(jetstream(nc)).create(`bench_watch_${Date.now()}`, { history: 1 });
  const delays: number[] = [];
  const iter = await kv.watch({ key: '>', include: KvWatchInclude.UpdatesOnly });
  void (async () => {
    for await (const e of iter) delays.push(epochMs() - Number(e.string()));
  })();
  await sleep(100);
  for (let i = 0; i < count; i++) {
    await kv.put(`w.${i % 16}`, String(epochMs()));
    await sleep(gapMs);
  }
  await sleep(200);
  iter.stop();
  await kv.destroy();
  return summarize(delays);
}

export type FanoutResult = { subscribers: number; changes: number; received: number; latency: Summary };

/**
 * uWS topic publish to receipt by `subscribers` `ws` clients: the floor of the mesh's fan-out,
 * including this load generator's own cost of reading that many sockets.
 */
export async function measureUwsFloor(
  nc: NatsConnection,
  floor: FloorServer,
  subscribers: number,
  changes: number,
  gapMs: number,
): Promise<FanoutResult> {
  const recorder = new DelayRecorder();
  const pool = await openClients(`ws://127.0.0.1:${floor.wsPort}${FloorWsPath}`, subscribers, {
    onMessage: (data) => recorder.record(data),
  });
  try {
    for (;;) {
      const n = Number(new TextDecoder().decode((await nc.request(FloorSubjects.subscribers, new Uint8Array(0))).data));
      if (n >= subscribers) break;
      await sleep(50);
    }
    await sleep(300);
    for (let i = 0; i < changes; i++) {
      await nc.request(FloorSubjects.publish, new Uint8Array(0), { timeout: 10_000 });
      await sleep(gapMs);
    }
    await sleep(500);
    const samples = recorder.take();
    return { subscribers, changes, received: samples.length, latency: summarize(samples) };
  } finally {
    await pool.close();
  }
}
