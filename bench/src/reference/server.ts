/**
 * The baseline of the lifecycle phase: a plain build of tabmesh's HTTP and WebSocket contract on
 * fastify + ws + BullMQ + Redis, the kind of build issue 12 compares tabmesh with. It does what a
 * whole tab lifecycle needs and no more: tokens verified (and remembered, as tabmesh does), bodies
 * and frames validated with zod, the same states and progress steps, a `tab` frame per change,
 * the `sim` provider's latencies. It keeps no compare-and-set, no bus users, no limits beyond the
 * tabs-per-task bound and no recovery paths, so it is a floor for such a build, not its equal.
 *
 * Roles (argv[2]): `api` (HTTP and WebSocket), `workers` (the three queues), or `all` in one process.
 * Environment: REDIS_PORT, REFERENCE_HTTP_PORT, REFERENCE_WS_PORT, REFERENCE_JWT_SECRET,
 * TABMESH_SIM_PROVISION_MS, TABMESH_SIM_SESSION_MS. Sends `{ type: 'tabmesh.ready', ports }` over
 * IPC once it serves.
 */
import { randomUUID } from 'node:crypto';
import { Queue, Worker } from 'bullmq';
import Fastify from 'fastify';
import { Redis } from 'ioredis';
import { jwtVerify } from 'jose';
import { type WebSocket, WebSocketServer } from 'ws';
import * as z from 'zod';

const role = process.argv[2] ?? 'all';
const redisPort = Number(process.env.REDIS_PORT);
const connection = { host: '127.0.0.1', port: redisPort, maxRetriesPerRequest: null };
const provisionMs = Number(process.env.TABMESH_SIM_PROVISION_MS ?? 1500);
const sessionMs = Number(process.env.TABMESH_SIM_SESSION_MS ?? 200);
const MaxTabsPerTask = 100;
const Concurrency = 256;

type TabState = 'pending_provision' | 'pending_session_create' | 'ready' | 'error' | 'closed';
type Tab = {
  v: 1;
  id: string;
  org: string;
  task: string;
  state: TabState;
  title: string;
  agent: string;
  model: string | null;
  sessionId: string | null;
  sandboxId: string | null;
  unread: boolean;
  progress: string | null;
  error: null;
  createdAt: string;
  updatedAt: string;
  readyAt: string | null;
  closedAt: string | null;
  revision: number;
};
type Task = { state: 'provisioning' | 'provisioned'; step: string; sandboxId: string | null };

const redis = new Redis(connection);
const taskKey = (org: string, task: string) => `${org}.${task}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Writes tabs (a revision each from one counter, like KV revisions) and publishes their frames. */
async function writeTabs(tabs: Tab[]): Promise<void> {
  if (tabs.length === 0) return;
  const last = await redis.incrby('rev', tabs.length);
  const now = new Date().toISOString();
  const p = redis.pipeline();
  tabs.forEach((tab, i) => {
    tab.revision = last - tabs.length + 1 + i;
    tab.updatedAt = now;
    const tk = taskKey(tab.org, tab.task);
    const text = JSON.stringify(tab);
    p.set(`tab:${tk}.${tab.id}`, text);
    if (tab.state === 'closed') p.srem(`tabs:${tk}`, tab.id);
    p.publish(`t:${tk}`, `{"v":1,"type":"tab","tab":${text}}`);
  });
  await p.exec();
}

async function openTabs(org: string, task: string): Promise<Tab[]> {
  const tk = taskKey(org, task);
  const ids = await redis.smembers(`tabs:${tk}`);
  if (ids.length === 0) return [];
  const texts = await redis.mget(ids.map((id) => `tab:${tk}.${id}`));
  return texts.filter((t): t is string => t !== null).map((t) => JSON.parse(t) as Tab);
}

const provisionQueue = new Queue('provision', { connection });
const sessionQueue = new Queue('session', { connection });
const destroyQueue = new Queue('destroy', { connection });
const jobDefaults = { removeOnComplete: true, removeOnFail: 1000 };

// ---- API: HTTP and WebSocket ----

const secret = new TextEncoder().encode(process.env.REFERENCE_JWT_SECRET ?? '');
/** Tokens verified lately, at most MaxVerified (cleared when full: the bench uses a few dozen). */
const MaxVerified = 10_000;
const verified = new Map<string, { orgs: string[]; exp: number }>();
async function claimsOf(token: string | undefined): Promise<{ orgs: string[] } | null> {
  if (!token) return null;
  const known = verified.get(token);
  if (known && known.exp * 1000 > Date.now()) return known;
  try {
    const { payload } = await jwtVerify(token, secret, { algorithms: ['HS256'] });
    const claims = { orgs: (payload.orgs as string[]) ?? [], exp: payload.exp ?? 0 };
    if (verified.size >= MaxVerified) verified.clear();
    verified.set(token, claims);
    return claims;
  } catch {
    return null;
  }
}
const mayUse = (claims: { orgs: string[] }, org: string) => claims.orgs.includes('*') || claims.orgs.includes(org);

const Id = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/);
const TaskParams = z.object({ org: Id, task: Id });
const TabParams = TaskParams.extend({ tab: Id });
const CreateBody = z
  .object({
    title: z.string().max(200).optional(),
    agent: z.string().max(64).optional(),
    model: z.string().max(128).nullable().optional(),
    clientRequestId: z.string().max(128).optional(),
  })
  .strict();
const ClientFrame = z.discriminatedUnion('op', [
  z.object({ op: z.literal('subscribe'), org: Id, task: Id, sinceRevision: z.number().int().optional() }),
  z.object({ op: z.literal('unsubscribe'), org: Id, task: Id }),
]);

async function startApi(): Promise<Record<string, number>> {
  const app = Fastify({ logger: false });
  app.addHook('onRequest', async (req, reply) => {
    const auth = req.headers.authorization;
    const claims = await claimsOf(auth?.startsWith('Bearer ') ? auth.slice(7) : undefined);
    if (!claims) return reply.code(401).send({ error: { code: 'unauthenticated' } });
    (req as unknown as { claims: typeof claims }).claims = claims;
  });

  app.post('/v1/orgs/:org/tasks/:task/tabs', async (req, reply) => {
    const params = TaskParams.safeParse(req.params);
    const body = CreateBody.safeParse(req.body ?? {});
    if (!params.success || !body.success) return reply.code(400).send({ error: { code: 'bad_request' } });
    const { org, task } = params.data;
    if (!mayUse((req as unknown as { claims: { orgs: string[] } }).claims, org))
      return reply.code(403).send({ error: { code: 'forbidden' } });
    const tk = taskKey(org, task);
    const [[, taskText], [, open]] = (await redis.pipeline().get(`task:${tk}`).scard(`tabs:${tk}`).exec()) as [
      [null, string | null],
      [null, number],
    ];
    if (open >= MaxTabsPerTask) return reply.code(409).send({ error: { code: 'limit_reached' } });
    const taskNow = taskText ? (JSON.parse(taskText) as Task) : null;
    const provisioned = taskNow?.state === 'provisioned';
    const now = new Date().toISOString();
    const tab: Tab = {
      v: 1,
      id: randomUUID(),
      org,
      task,
      state: provisioned ? 'pending_session_create' : 'pending_provision',
      title: body.data.title ?? '',
      agent: body.data.agent ?? 'mock',
      model: body.data.model ?? null,
      sessionId: null,
      sandboxId: taskNow?.sandboxId ?? null,
      unread: false,
      progress: provisioned ? 'Creating session' : 'Queued',
      error: null,
      createdAt: now,
      updatedAt: now,
      readyAt: null,
      closedAt: null,
      revision: 0,
    };
    await redis.sadd(`tabs:${tk}`, tab.id);
    await writeTabs([tab]);
    if (provisioned) await sessionQueue.add('s', { org, task, tabs: [tab.id] }, jobDefaults);
    else if (taskNow === null) {
      // The first create of a task provisions it, once (SET NX), as a job deduplicated by task.
      const first = await redis.set(
        `task:${tk}`,
        JSON.stringify({ state: 'provisioning', step: 'queued', sandboxId: null }),
        'NX',
      );
      if (first) await provisionQueue.add('p', { org, task }, { ...jobDefaults, jobId: tk });
    }
    return reply.code(201).send({ tab });
  });

  app.delete('/v1/orgs/:org/tasks/:task/tabs/:tab', async (req, reply) => {
    const params = TabParams.safeParse(req.params);
    if (!params.success) return reply.code(400).send({ error: { code: 'bad_request' } });
    const { org, task, tab: id } = params.data;
    if (!mayUse((req as unknown as { claims: { orgs: string[] } }).claims, org))
      return reply.code(403).send({ error: { code: 'forbidden' } });
    const text = await redis.get(`tab:${taskKey(org, task)}.${id}`);
    if (!text) return reply.code(404).send({ error: { code: 'not_found' } });
    const tab = JSON.parse(text) as Tab;
    if (tab.state !== 'closed') {
      tab.state = 'closed';
      tab.closedAt = new Date().toISOString();
      await writeTabs([tab]);
      if (tab.sessionId) await destroyQueue.add('d', { org, task, sessionId: tab.sessionId }, jobDefaults);
    }
    return reply.code(202).send({ tab });
  });

  await app.listen({ host: '127.0.0.1', port: Number(process.env.REFERENCE_HTTP_PORT ?? 0) });
  const httpPort = (app.server.address() as { port: number }).port;

  const topics = new Map<string, Set<WebSocket>>();
  const leave = (tk: string, ws: WebSocket) => {
    const sockets = topics.get(tk);
    if (sockets?.delete(ws) && sockets.size === 0) topics.delete(tk);
  };
  const subscriber = new Redis(connection);
  await subscriber.psubscribe('t:*');
  subscriber.on('pmessage', (_pattern: string, channel: string, message: string) => {
    for (const ws of topics.get(channel.slice(2)) ?? []) ws.send(message);
  });
  const wss = new WebSocketServer({
    host: '127.0.0.1',
    port: Number(process.env.REFERENCE_WS_PORT ?? 0),
    perMessageDeflate: false,
  });
  wss.on('connection', async (ws, req) => {
    const token = new URL(req.url ?? '/', 'http://x').searchParams.get('access_token') ?? undefined;
    const claims = await claimsOf(token);
    if (!claims) return ws.close(4401, 'unauthenticated');
    const mine = new Set<string>();
    ws.on('message', async (data: Buffer) => {
      let frame: z.infer<typeof ClientFrame>;
      try {
        frame = ClientFrame.parse(JSON.parse(data.toString('utf8')));
      } catch {
        ws.send(JSON.stringify({ v: 1, type: 'error', code: 'bad_frame', detail: 'invalid frame' }));
        return;
      }
      if (!mayUse(claims, frame.org)) {
        ws.send(JSON.stringify({ v: 1, type: 'error', code: 'forbidden', detail: frame.org }));
        return;
      }
      const tk = taskKey(frame.org, frame.task);
      if (frame.op === 'unsubscribe') {
        leave(tk, ws);
        mine.delete(tk);
        return;
      }
      if (!topics.has(tk)) topics.set(tk, new Set());
      topics.get(tk)?.add(ws);
      mine.add(tk);
      const tabs = await openTabs(frame.org, frame.task);
      ws.send(JSON.stringify({ v: 1, type: 'snapshot', org: frame.org, task: frame.task, tabs }));
    });
    ws.on('close', () => {
      for (const tk of mine) leave(tk, ws);
    });
  });
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  return { http: httpPort, ws: (wss.address() as { port: number }).port };
}

// ---- Workers: provision, session, destroy ----

function startWorkers(): void {
  const stepMs = provisionMs / 2;
  new Worker(
    'provision',
    async (job) => {
      const { org, task } = job.data as { org: string; task: string };
      const tk = taskKey(org, task);
      for (const [step, label] of [
        ['creating_sandbox', 'Creating sandbox'],
        ['starting_agent', 'Starting agent'],
      ] as const) {
        await redis.set(`task:${tk}`, JSON.stringify({ state: 'provisioning', step, sandboxId: null }));
        const pending = (await openTabs(org, task)).filter((t) => t.state === 'pending_provision');
        for (const t of pending) t.progress = label;
        await writeTabs(pending);
        await sleep(stepMs);
      }
      const sandboxId = `sim-${randomUUID()}`;
      await redis.set(`task:${tk}`, JSON.stringify({ state: 'provisioned', step: 'ready', sandboxId }));
      const pending = (await openTabs(org, task)).filter((t) => t.state === 'pending_provision');
      for (const t of pending) {
        t.state = 'pending_session_create';
        t.progress = 'Creating session';
        t.sandboxId = sandboxId;
      }
      await writeTabs(pending);
      if (pending.length > 0) await sessionQueue.add('s', { org, task, tabs: pending.map((t) => t.id) }, jobDefaults);
    },
    { connection, concurrency: Concurrency },
  );
  new Worker(
    'session',
    async (job) => {
      const { org, task, tabs: ids } = job.data as { org: string; task: string; tabs: string[] };
      await sleep(sessionMs);
      const tk = taskKey(org, task);
      const texts = await redis.mget(ids.map((id) => `tab:${tk}.${id}`));
      const readyAt = new Date().toISOString();
      const ready = texts
        .filter((t): t is string => t !== null)
        .map((t) => JSON.parse(t) as Tab)
        .filter((t) => t.state === 'pending_session_create');
      for (const t of ready) {
        t.state = 'ready';
        t.sessionId = `session-${randomUUID()}`;
        t.progress = null;
        t.unread = true;
        t.readyAt = readyAt;
      }
      await writeTabs(ready);
    },
    { connection, concurrency: Concurrency },
  );
  new Worker('destroy', async () => undefined, { connection, concurrency: Concurrency });
}

let ports: Record<string, number> = {};
if (role === 'api' || role === 'all') ports = await startApi();
if (role === 'workers' || role === 'all') startWorkers();
process.send?.({ type: 'tabmesh.ready', service: `reference-${role}`, ports });
process.on('SIGTERM', () => process.exit(0));
