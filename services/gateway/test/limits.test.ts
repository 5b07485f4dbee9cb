import type { Subscription } from '@nats-io/transport-node';
import {
  decode,
  ErrorCode,
  encode,
  ProblemSchema,
  type ServerFrame,
  Subjects,
  TabCreateRequestSchema,
  TabReplySchema,
} from '@tabmesh/contracts';
import { sleep, uniqueId, waitFor } from '@tabmesh/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, putTab, startHarness, tabRecord, validFrames } from './support/harness.js';
import { TestWsClient, UpgradeRefused } from './support/ws-client.js';

const json = (body: unknown): RequestInit => ({
  method: 'POST',
  headers: { 'Content-Type': 'application/json' },
  body: JSON.stringify(body),
});

const bearer = (token: string): RequestInit => ({ headers: { authorization: `Bearer ${token}` } });

/** A 429 limit_reached problem with a whole-seconds Retry-After of at least 1; returns that wait. */
async function expectLimited(res: Response): Promise<number> {
  expect(res.status).toBe(429);
  expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(ProblemSchema.parse(await res.json())).toMatchObject({ status: 429, code: ErrorCode.LimitReached });
  const retryAfter = res.headers.get('retry-after') ?? '';
  expect(retryAfter).toMatch(/^[1-9][0-9]*$/);
  return Number(retryAfter);
}

/** Plays tab-registry for `tab.create`: each request it gets is stored as a tab, as the real one would. */
function storingRegistry(h: Harness): { creates: number; sub: Subscription } {
  const seen = { creates: 0, sub: null as unknown as Subscription };
  seen.sub = h.nc.subscribe(Subjects.tabCreate, {
    callback: (_err, msg) => {
      seen.creates++;
      const req = decode(TabCreateRequestSchema, msg.data, 'req');
      const tab = tabRecord(req.org, req.task, { title: req.title ?? 'tab' });
      void putTab(h.tabs, tab).then(({ revision }) =>
        msg.respond(encode(TabReplySchema, { v: 1, ok: true, tab: { ...tab, revision }, created: true }, 'reply')),
      );
    },
  });
  return seen;
}

describe('request rate per token (GATEWAY_RATE_LIMIT=1: bursts of 5)', () => {
  let h: Harness;
  let registry: ReturnType<typeof storingRegistry>;
  beforeAll(async () => {
    h = await startHarness({ GATEWAY_RATE_LIMIT: '1' }, { requestTimeoutMs: 3000 });
    registry = storingRegistry(h);
    await h.nc.flush();
  });
  afterAll(async () => {
    registry.sub.unsubscribe();
    await h.stop();
  });

  it('refuses a burst past 5x the rate with 429 + Retry-After, stores nothing for the refused creates, spares other tokens, and lets requests through again after the wait', async () => {
    const org = uniqueId('org');
    const task = uniqueId('task');
    const ana = await h.mint(['*'], 600, 'ana');
    const bob = await h.mint(['*'], 600, 'bob');
    const path = `/v1/orgs/${org}/tasks/${task}/tabs`;
    const create = (token: string) =>
      h.http(path, {
        ...json({ title: 'burst' }),
        headers: { 'Content-Type': 'application/json', authorization: `Bearer ${token}` },
      });
    const results = await Promise.all(Array.from({ length: 9 }, () => create(ana)));
    const statuses = results.map((r) => r.status).sort();
    expect(statuses).toEqual([201, 201, 201, 201, 201, 429, 429, 429, 429]);
    const waits = await Promise.all(results.filter((r) => r.status === 429).map(expectLimited));
    // Refused before the bus: only the five accepted creates reached tab-registry and were stored.
    expect(registry.creates).toBe(5);
    expect(await h.tabs.listTask(org, task)).toHaveLength(5);
    expect(h.gateway.metrics.limitRefusals.get({ kind: 'requests' })).toBe(4);

    // Another token has its own budget, a whole burst, also for reads.
    const others = await Promise.all(Array.from({ length: 5 }, () => h.http(path, bearer(bob))));
    expect(others.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);

    await sleep(Math.max(...waits) * 1000);
    expect((await create(ana)).status).toBe(201);
    expect(registry.creates).toBe(6);
    expect(await h.tabs.listTask(org, task)).toHaveLength(6);
  });

  it('spends the request rate on WebSocket upgrades too (they are /v1 requests)', async () => {
    const carl = await h.mint(['*'], 600, 'carl');
    for (let i = 0; i < 5; i++)
      expect((await h.http(`/v1/orgs/o/tasks/${uniqueId('t')}/tabs`, bearer(carl))).status).toBe(200);
    const err = await TestWsClient.connect(`ws://127.0.0.1:${h.gateway.wsPort}/v1/ws?access_token=${carl}`).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(UpgradeRefused);
    expect((err as UpgradeRefused).status).toBe(429);
    expect((err as UpgradeRefused).headers['retry-after']).toMatch(/^[1-9][0-9]*$/);
  });

  it('leaves the ops routes unlimited', async () => {
    const res = await Promise.all(
      Array.from({ length: 20 }, () => fetch(`http://127.0.0.1:${h.gateway.httpPort}/healthz`)),
    );
    expect(res.every((r) => r.status === 200)).toBe(true);
  });
});

describe('sockets per token (GATEWAY_MAX_SOCKETS_PER_TOKEN=3)', () => {
  let h: Harness;
  const clients: TestWsClient[] = [];
  beforeAll(async () => {
    h = await startHarness({ GATEWAY_MAX_SOCKETS_PER_TOKEN: '3' });
  });
  afterAll(async () => {
    for (const c of clients) c.destroy();
    await h.stop();
  });
  const open = async (token: string) => {
    const c = await TestWsClient.connect(`ws://127.0.0.1:${h.gateway.wsPort}/v1/ws?access_token=${token}`);
    clients.push(c);
    return c;
  };

  it('refuses the upgrade past the cap with 429 problem+json and Retry-After, even when the upgrades race; a close frees a slot', async () => {
    const ana = await h.mint(['*'], 600, 'ana');
    const bob = await h.mint(['*'], 600, 'bob');
    const attempts = await Promise.allSettled(Array.from({ length: 6 }, () => open(ana)));
    const opened = attempts.flatMap((a) => (a.status === 'fulfilled' ? [a.value] : []));
    const refused = attempts.flatMap((a) => (a.status === 'rejected' ? [a.reason as unknown] : []));
    expect(opened).toHaveLength(3);
    expect(refused).toHaveLength(3);
    for (const err of refused) {
      expect(err).toBeInstanceOf(UpgradeRefused);
      const r = err as UpgradeRefused;
      expect(r.status).toBe(429);
      expect(r.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(r.headers['retry-after']).toMatch(/^[1-9][0-9]*$/);
      expect(ProblemSchema.parse(JSON.parse(r.body))).toMatchObject({
        status: 429,
        code: ErrorCode.LimitReached,
        detail: expect.stringMatching(/3 WebSocket connections per token/),
      });
    }
    expect(h.gateway.metrics.wsConnections.get()).toBe(3);
    expect(h.gateway.metrics.limitRefusals.get({ kind: 'sockets' })).toBe(3);

    // Another token is not affected.
    const other = await open(bob);
    expect(other.closed).toBe(false);

    // The open ones still work.
    opened[0]!.send({ op: 'subscribe', org: uniqueId('org'), task: uniqueId('task') });
    expect(await opened[0]!.waitForCount(1)).toMatchObject([{ type: 'snapshot' }]);

    opened[1]!.close();
    await opened[1]!.waitClosed();
    await waitFor('the server to see the close', () => h.gateway.metrics.wsConnections.get() === 3);
    const again = await open(ana);
    expect(again.closed).toBe(false);
    await expect(open(ana)).rejects.toMatchObject({ status: 429 });
  });
});

describe('subscribe floods (GATEWAY_RATE_LIMIT=1: 5 frames per socket, 20 per token, in a burst)', () => {
  let h: Harness;
  const clients: TestWsClient[] = [];
  beforeAll(async () => {
    h = await startHarness({ GATEWAY_RATE_LIMIT: '1' });
  });
  afterAll(async () => {
    for (const c of clients) c.destroy();
    await h.stop();
  });
  const open = async (sub: string) => {
    const token = await h.mint(['*'], 600, sub);
    const c = await TestWsClient.connect(`ws://127.0.0.1:${h.gateway.wsPort}/v1/ws?access_token=${token}`);
    clients.push(c);
    return c;
  };
  /** Tasks with one tab each, so a snapshot is something loaded. */
  async function tasks(n: number): Promise<Array<{ org: string; task: string }>> {
    const org = uniqueId('org');
    const out = Array.from({ length: n }, () => ({ org, task: uniqueId('task') }));
    for (const t of out) await putTab(h.tabs, tabRecord(t.org, t.task));
    return out;
  }
  const byType = (frames: ServerFrame[], type: ServerFrame['type']) => frames.filter((f) => f.type === type);

  it('answers the frames past the socket budget with limit_reached error frames, loads nothing for them, and keeps the socket usable', async () => {
    const c = await open('flooder');
    const ts = await tasks(8);
    const cachedBefore = h.gateway.cachedTasks();
    for (const t of ts) c.send({ op: 'subscribe', ...t });
    await c.waitForCount(8);
    await sleep(200); // no late snapshot for a refused one
    const frames = validFrames(c);
    expect(frames).toHaveLength(8);
    const snapshots = byType(frames, 'snapshot').map((f) => (f.type === 'snapshot' ? f.task : ''));
    expect(snapshots.sort()).toEqual(
      ts
        .slice(0, 5)
        .map((t) => t.task)
        .sort(),
    );
    const errors = byType(frames, 'error');
    expect(errors).toHaveLength(3);
    for (const [i, e] of errors.entries()) {
      expect(e).toMatchObject({
        type: 'error',
        code: ErrorCode.LimitReached,
        detail: expect.stringContaining(`subscribe ${ts[5 + i]!.org}/${ts[5 + i]!.task} refused`),
      });
      expect(e.type === 'error' && e.detail).toMatch(/per socket.*retry in [1-9]/);
    }
    expect(h.gateway.cachedTasks() - cachedBefore).toBe(5);
    expect(h.gateway.metrics.limitRefusals.get({ kind: 'frames' })).toBe(3);

    await sleep(1100);
    c.send({ op: 'subscribe', ...ts[7]! });
    const [next] = (await c.waitForCount(9)).slice(8);
    expect(next).toMatchObject({ type: 'snapshot', task: ts[7]!.task });
    expect(c.closed).toBe(false);
  });

  it('bounds one token across its sockets: five sockets within their own budget still stop at the token budget', async () => {
    const sockets = await Promise.all(Array.from({ length: 5 }, () => open('many-sockets')));
    const lone = await open('someone-else');
    const ts = await tasks(25);
    const refusedBefore = h.gateway.metrics.limitRefusals.get({ kind: 'frames' });
    sockets.forEach((s, i) => {
      for (const t of ts.slice(i * 5, i * 5 + 5)) s.send({ op: 'subscribe', ...t });
    });
    lone.send({ op: 'subscribe', ...ts[0]! });
    for (const s of sockets) await s.waitForCount(5);
    await lone.waitForCount(1);
    await sleep(200);
    const all = sockets.flatMap((s) => validFrames(s));
    expect(all).toHaveLength(25);
    expect(byType(all, 'snapshot')).toHaveLength(20);
    const errors = byType(all, 'error');
    expect(errors).toHaveLength(5);
    for (const e of errors) expect(e.type === 'error' && e.detail).toMatch(/per token/);
    expect(h.gateway.metrics.limitRefusals.get({ kind: 'frames' }) - refusedBefore).toBe(5);
    // Another token subscribes as usual.
    expect(validFrames(lone)).toMatchObject([{ type: 'snapshot', task: ts[0]!.task }]);
  });
});

describe('GATEWAY_RATE_LIMIT=0', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ GATEWAY_RATE_LIMIT: '0' }, { maxSubscriptionsPerSocket: 1000 });
  });
  afterAll(() => h.stop());

  it('turns the request and frame rates off: more than the default burst passes', async () => {
    const path = `/v1/orgs/${uniqueId('org')}/tasks/${uniqueId('task')}/tabs`;
    // Past the default's burst of 250 for one token.
    const res = await Promise.all(Array.from({ length: 300 }, () => h.http(path)));
    expect(res.filter((r) => r.status === 200)).toHaveLength(300);
    const c = await h.ws();
    const org = uniqueId('org');
    for (let i = 0; i < 300; i++) c.send({ op: 'subscribe', org, task: `t${i}` });
    await c.waitForCount(300, 20_000);
    expect(byTypeCount(validFrames(c), 'snapshot')).toBe(300);
    expect(
      h.gateway.metrics.limitRefusals.get({ kind: 'requests' }) +
        h.gateway.metrics.limitRefusals.get({ kind: 'frames' }),
    ).toBe(0);
  });
});

describe('TABMESH_AUTH=off', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ TABMESH_AUTH: 'off', GATEWAY_RATE_LIMIT: '1' });
  });
  afterAll(() => h.stop());

  it('keys the rate by remote address, since every caller is anonymous', async () => {
    const path = `http://127.0.0.1:${h.gateway.httpPort}/v1/orgs/${uniqueId('org')}/tasks/${uniqueId('task')}/tabs`;
    const res = await Promise.all(Array.from({ length: 7 }, () => fetch(path)));
    expect(res.map((r) => r.status).sort()).toEqual([200, 200, 200, 200, 200, 429, 429]);
    await expectLimited(res.find((r) => r.status === 429)!);
  });
});

function byTypeCount(frames: ServerFrame[], type: ServerFrame['type']): number {
  return frames.filter((f) => f.type === type).length;
}
