import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { mintToken } from '@tabmesh/auth';
import {
  ErrorCode,
  encode,
  newTask,
  ProblemSchema,
  Subjects,
  type TabRecord,
  TabReplySchema,
  TaskReplySchema,
  tabKey,
} from '@tabmesh/contracts';
import { ConfigError, ensureBus, TabStore, TaskStore } from '@tabmesh/runtime';
import { NatsServer, testConfig, uniqueId, waitFor } from '@tabmesh/testkit';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { type Logger, pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GatewayHandle, startGateway } from '../src/index.js';
import { putTab, tabRecord, validFrames } from './support/harness.js';
import { TestWsClient, UpgradeRefused } from './support/ws-client.js';

const Secret = 'auth-test-secret-0123456789abcdef0123456789';

type LogLine = { level: number; msg: string; [key: string]: unknown };

/**
 * The one place these tests build a mesh: nats-server, a gateway whose log lines are kept, and a
 * stand-in for tab-registry that answers every `tab.*` / `task.teardown` request and records it,
 * so a test can tell whether a request reached the bus at all.
 */
async function startAccessMesh(env: Record<string, string> = {}) {
  const server = await NatsServer.start();
  const config = testConfig(server.url, { ...server.serviceEnv('gateway'), TABMESH_JWT_SECRET: Secret, ...env });
  const logs: LogLine[] = [];
  const logger: Logger = pino(
    { level: 'debug' },
    { write: (line: string) => void logs.push(JSON.parse(line) as LogLine) },
  );
  let gateway: GatewayHandle | null = null;
  let nc: NatsConnection | null = null;
  const subs: Subscription[] = [];
  const requests: Array<{ subject: string; org: string }> = [];
  const stop = async () => {
    for (const s of subs) s.unsubscribe();
    await gateway?.stop();
    await nc?.close();
    await server.stop();
  };
  try {
    gateway = await startGateway(config, logger, { requestTimeoutMs: 3000 });
    nc = await connect({ servers: server.url, ...server.adminAuth });
    const bus = await ensureBus(nc, config);
    const tabs = new TabStore(bus.tabs);
    for (const subject of [
      Subjects.tabCreate,
      Subjects.tabClose,
      Subjects.tabRetry,
      Subjects.tabRead,
      Subjects.taskTeardown,
    ]) {
      const sub = nc.subscribe(subject, {
        callback: (_err, msg) => {
          const req = msg.json<{ org: string; task: string }>();
          requests.push({ subject, org: req.org });
          if (subject === Subjects.taskTeardown) {
            const task = TaskStore.view(newTask(req.org, req.task), 0);
            msg.respond(encode(TaskReplySchema, { v: 1, ok: true, task, closedTabs: 0 }, 'reply'));
          } else {
            msg.respond(
              encode(
                TabReplySchema,
                { v: 1, ok: true, tab: { ...tabRecord(req.org, req.task), revision: 1 }, created: true },
                'reply',
              ),
            );
          }
        },
      });
      subs.push(sub);
    }
    const gw = gateway;
    return {
      server,
      gateway: gw,
      config,
      nc,
      tabs,
      logs,
      requests,
      stop,
      http: (path: string, init: RequestInit = {}) => fetch(`http://127.0.0.1:${gw.httpPort}${path}`, init),
      wsUrl: (query = '') => `ws://127.0.0.1:${gw.wsPort}/v1/ws${query}`,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
type AccessMesh = Awaited<ReturnType<typeof startAccessMesh>>;

const enc = new TextEncoder();
const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
const now = () => Math.floor(Date.now() / 1000);
const mint = (orgs: string[], ttlSeconds = 600, sub = 'ana') =>
  mintToken({ secret: Secret, sub, orgs: orgs as ['*'], ttlSeconds });

/** Every kind of token the gateway must refuse, with the reason the caller is told. */
async function badTokens(): Promise<Array<{ name: string; token: string | null; reason: string }>> {
  return [
    { name: 'no token', token: null, reason: 'missing bearer token' },
    {
      name: 'expired',
      token: await new SignJWT({ orgs: ['*'] })
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject('ana')
        .setExpirationTime(now() - 60)
        .sign(enc.encode(Secret)),
      reason: 'token expired',
    },
    {
      name: 'wrong key',
      token: await mintToken({ secret: `${Secret}-not-ours`, sub: 'ana', orgs: ['*'], ttlSeconds: 600 }),
      reason: 'invalid token',
    },
    {
      name: 'alg none',
      token: `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub: 'ana', orgs: ['*'], exp: now() + 600 })}.`,
      reason: 'invalid token',
    },
    { name: 'garbage', token: 'not-a-jwt-at-all', reason: 'invalid token' },
  ];
}

/** Every `/v1` route of DESIGN.md, for one org, task and (existing) tab. */
function routes(
  org: string,
  task: string,
  tab: string,
): Array<{ method: string; path: string; body?: object; ok: number }> {
  const t = `/v1/orgs/${org}/tasks/${task}`;
  return [
    { method: 'POST', path: `${t}/tabs`, body: { title: 'x' }, ok: 201 },
    { method: 'GET', path: `${t}/tabs`, ok: 200 },
    { method: 'GET', path: `${t}/tabs/${tab}`, ok: 200 },
    { method: 'DELETE', path: `${t}/tabs/${tab}`, ok: 202 },
    { method: 'POST', path: `${t}/tabs/${tab}/retry`, ok: 202 },
    { method: 'POST', path: `${t}/tabs/${tab}/read`, ok: 200 },
    { method: 'GET', path: t, ok: 200 },
    { method: 'DELETE', path: t, ok: 202 },
  ];
}

function call(
  m: AccessMesh,
  route: { method: string; path: string; body?: object },
  token: string | null,
  headers: Record<string, string> = {},
) {
  return m.http(route.path, {
    method: route.method,
    headers: {
      ...(token !== null ? { authorization: `Bearer ${token}` } : {}),
      ...(route.body ? { 'content-type': 'application/json' } : {}),
      ...headers,
    },
    ...(route.body ? { body: JSON.stringify(route.body) } : {}),
  });
}

async function problemOf(res: Response, status: number, code: ErrorCode) {
  const text = await res.text();
  expect(res.status, text).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  const problem = ProblemSchema.parse(JSON.parse(text));
  expect(problem.code).toBe(code);
  return { problem, text };
}

async function seedTab(m: AccessMesh, org: string, task: string): Promise<{ record: TabRecord; revision: number }> {
  return putTab(
    m.tabs,
    tabRecord(org, task, { state: 'error', error: { code: ErrorCode.SessionFailed, message: 'x', retryable: true } }),
  );
}

/** Resolves with the refused upgrade, or fails the test if the socket opened. */
async function refusedUpgrade(url: string, headers: Record<string, string> = {}): Promise<UpgradeRefused> {
  const result = await TestWsClient.connect(url, headers).then(
    (c) => {
      c.destroy();
      return null;
    },
    (err: unknown) => err,
  );
  expect(result).toBeInstanceOf(UpgradeRefused);
  return result as UpgradeRefused;
}

describe('gateway access: tokens, orgs, origins, content types', () => {
  let m: AccessMesh;
  beforeAll(async () => {
    m = await startAccessMesh({ GATEWAY_ALLOWED_ORIGINS: 'https://workbench.example' });
  });
  afterAll(async () => {
    await m.stop();
  });

  it('refuses every /v1 route with 401 for no token, expired, wrong key, alg none and garbage, and nothing reaches the bus or KV', async () => {
    const org = uniqueId('org');
    const task = uniqueId('task');
    const seeded = await seedTab(m, org, task);
    const before = m.requests.length;
    const logsBefore = m.logs.length;
    let refused = 0;
    for (const bad of await badTokens()) {
      for (const route of [...routes(org, task, seeded.record.id), { method: 'GET', path: '/v1/anything' }]) {
        const res = await call(m, route, bad.token);
        const { problem, text } = await problemOf(res, 401, ErrorCode.Unauthenticated);
        expect(problem.detail, `${bad.name} ${route.method} ${route.path}`).toBe(bad.reason);
        expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
        if (bad.token) expect(text).not.toContain(bad.token);
        refused++;
      }
    }
    expect(refused).toBe(45);
    expect(m.requests.length - before).toBe(0);
    // The seeded tab is untouched and no other tab of the org exists.
    expect((await m.tabs.getTab(org, task, seeded.record.id))?.revision).toBe(seeded.revision);
    expect((await m.tabs.listTask(org, task)).map((t) => t.value.id)).toEqual([seeded.record.id]);
    // Each refusal is logged at warn with its reason; no log line carries a token.
    const lines = m.logs.slice(logsBefore);
    const refusals = lines.filter((l) => l.msg === 'request refused: unauthenticated');
    expect(refusals).toHaveLength(45);
    expect(refusals.every((l) => l.level === 40 && typeof l.reason === 'string')).toBe(true);
    const text = JSON.stringify(lines);
    for (const bad of await badTokens())
      if (bad.token) expect(text).not.toContain(bad.token.split('.').slice(0, 2).join('.'));
  });

  it('answers 403 forbidden for an org the token does not name, before the route reads or writes, and serves its own org and ["*"]', async () => {
    const orgA = uniqueId('orgA');
    const orgB = uniqueId('orgB');
    const task = uniqueId('task');
    const tabA = await seedTab(m, orgA, task);
    const tabB = await seedTab(m, orgB, task);
    const tokenA = await mint([orgA], 600, 'alice');
    const before = m.requests.length;
    for (const route of routes(orgB, task, tabB.record.id)) {
      const { problem } = await problemOf(await call(m, route, tokenA), 403, ErrorCode.Forbidden);
      expect(problem.detail).toContain(orgB);
    }
    expect(m.requests.length).toBe(before);
    expect((await m.tabs.getTab(orgB, task, tabB.record.id))?.revision).toBe(tabB.revision);
    const refusals = m.logs.filter((l) => l.msg === 'request refused: org not allowed' && l.org === orgB);
    expect(refusals).toHaveLength(8);
    expect(refusals.every((l) => l.sub === 'alice' && l.level === 40)).toBe(true);

    for (const route of routes(orgA, task, tabA.record.id)) {
      const res = await call(m, route, tokenA);
      expect(res.status, `${route.method} ${route.path}: ${await res.clone().text()}`).toBe(route.ok);
    }
    expect(m.requests.slice(before).map((r) => r.org)).toEqual([orgA, orgA, orgA, orgA, orgA]);
    // The request log line of an authenticated request carries the caller's sub.
    expect(m.logs.some((l) => l.msg === 'request' && l.sub === 'alice')).toBe(true);

    const all = await mint(['*'], 600, 'ops');
    for (const route of routes(orgB, task, tabB.record.id)) expect((await call(m, route, all)).status).toBe(route.ok);
  });

  it('refuses the upgrade with 401 and no socket for each bad token, in the header or the access_token parameter', async () => {
    for (const bad of await badTokens()) {
      const byQuery = await refusedUpgrade(m.wsUrl(bad.token ? `?access_token=${bad.token}` : ''));
      expect(byQuery.status).toBe(401);
      const problem = ProblemSchema.parse(JSON.parse(byQuery.body));
      expect(problem).toMatchObject({ code: ErrorCode.Unauthenticated, detail: bad.reason });
      if (bad.token) {
        expect(byQuery.body).not.toContain(bad.token);
        expect((await refusedUpgrade(m.wsUrl(), { authorization: `Bearer ${bad.token}` })).status).toBe(401);
      }
    }
    expect(m.gateway.metrics.wsConnections.get()).toBe(0);
  });

  it('opens a socket with the access_token parameter or the Authorization header; a subscribe for another org gets a forbidden frame and no snapshot', async () => {
    const orgA = uniqueId('orgA');
    const orgB = uniqueId('orgB');
    const task = uniqueId('task');
    await seedTab(m, orgB, task);
    const tokenA = await mint([orgA], 600, 'alice');
    const byQuery = await TestWsClient.connect(m.wsUrl(`?access_token=${tokenA}`));
    const byHeader = await TestWsClient.connect(m.wsUrl(), { authorization: `Bearer ${tokenA}` });
    try {
      for (const c of [byQuery, byHeader]) {
        c.send({ op: 'subscribe', org: orgB, task });
        const [frame] = await c.waitForCount(1);
        expect(frame).toMatchObject({ type: 'error', code: ErrorCode.Forbidden });
        expect((frame as { detail: string }).detail).toContain(orgB);
        // The socket stays usable: its own org subscribes and gets the snapshot.
        c.send({ op: 'subscribe', org: orgA, task });
        await c.waitForCount(2);
        const frames = validFrames(c);
        expect(frames.map((f) => f.type)).toEqual(['error', 'snapshot']);
        expect(frames[1]).toMatchObject({ type: 'snapshot', org: orgA, task });
      }
      expect(
        m.logs.filter((l) => l.msg === 'subscribe refused: org not allowed' && l.org === orgB && l.sub === 'alice'),
      ).toHaveLength(2);

      const all = await TestWsClient.connect(m.wsUrl(`?access_token=${await mint(['*'])}`));
      all.send({ op: 'subscribe', org: orgB, task });
      const [snap] = await all.waitForCount(1);
      expect(snap).toMatchObject({ type: 'snapshot', org: orgB, task });
      expect((snap as { tabs: unknown[] }).tabs).toHaveLength(1);
      all.destroy();
    } finally {
      byQuery.destroy();
      byHeader.destroy();
    }
  });

  it('closes a socket when its token expires (close code 4401, "token expired")', async () => {
    const org = uniqueId('org');
    const c = await TestWsClient.connect(m.wsUrl(`?access_token=${await mint([org], 2)}`));
    c.send({ op: 'subscribe', org, task: 'work' });
    await c.waitForCount(1);
    const opened = Date.now();
    await c.waitClosed(6000);
    expect(Date.now() - opened).toBeGreaterThan(500);
    expect(c.closeCode).toBe(4401);
    expect(c.closeReason).toBe('token expired');
    await waitFor('socket counted as closed', () => m.gateway.metrics.wsConnections.get() === 0);
  });

  it('refuses a foreign Origin with 403 on HTTP and on the upgrade, and lets its own and configured origins through', async () => {
    const org = uniqueId('org');
    const token = await mint(['*']);
    const route = { method: 'GET', path: `/v1/orgs/${org}/tasks/t/tabs` };
    const create = { method: 'POST', path: `/v1/orgs/${org}/tasks/t/tabs`, body: { title: 'from a web page' } };
    const before = m.requests.length;
    for (const origin of ['https://evil.example', 'http://localhost:1', 'null']) {
      await problemOf(await call(m, route, token, { origin }), 403, ErrorCode.Forbidden);
      await problemOf(await call(m, create, token, { origin }), 403, ErrorCode.Forbidden);
      expect((await refusedUpgrade(m.wsUrl(`?access_token=${token}`), { origin })).status).toBe(403);
    }
    // The origin check comes first: even without a token a foreign page learns nothing more than 403.
    await problemOf(await call(m, route, null, { origin: 'https://evil.example' }), 403, ErrorCode.Forbidden);
    expect(m.requests.length).toBe(before);
    expect(await m.tabs.listTask(org, 't')).toEqual([]);

    const port = m.gateway.httpPort;
    for (const origin of [`http://localhost:${port}`, `http://127.0.0.1:${port}`, 'https://workbench.example']) {
      expect((await call(m, route, token, { origin })).status).toBe(200);
      const c = await TestWsClient.connect(m.wsUrl(`?access_token=${token}`), { origin });
      c.destroy();
    }
  });

  it('answers 415 to a POST body without Content-Type or not declared JSON, storing nothing; an empty POST needs none', async () => {
    const org = uniqueId('org');
    const task = uniqueId('task');
    const token = await mint([org]);
    const before = m.requests.length;
    const path = `/v1/orgs/${org}/tasks/${task}/tabs`;
    // A byte body: fetch sends it without any Content-Type, as a cross-site no-cors request could.
    const none = await m.http(path, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
      body: enc.encode('{"title":"x"}'),
    });
    const { problem } = await problemOf(none, 415, ErrorCode.UnsupportedMediaType);
    expect(problem.detail).toMatch(/content-type/);
    await problemOf(
      await m.http(path, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'text/plain' },
        body: '{"title":"x"}',
      }),
      415,
      ErrorCode.UnsupportedMediaType,
    );
    const seeded = await seedTab(m, org, task);
    await problemOf(
      await m.http(`${path}/${seeded.record.id}/read`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}` },
        body: enc.encode('{}'),
      }),
      415,
      ErrorCode.UnsupportedMediaType,
    );
    expect(m.requests.length).toBe(before);
    expect((await m.tabs.listTask(org, task)).map((t) => t.value.id)).toEqual([seeded.record.id]);

    for (const action of ['read', 'retry']) {
      const res = await m.http(`${path}/${seeded.record.id}/${action}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}` },
      });
      expect(res.status, action).toBeLessThan(300);
    }
    expect(m.requests.slice(before).map((r) => r.subject)).toEqual([Subjects.tabRead, Subjects.tabRetry]);
    expect(tabKey(org, task, seeded.record.id)).toContain(org);
  });

  it('needs no token for /healthz, /readyz, /metrics and the workbench page', async () => {
    for (const path of ['/healthz', '/readyz', '/metrics', '/']) expect((await m.http(path)).status, path).toBe(200);
  });
});

describe('gateway access configuration', () => {
  it('refuses to start without TABMESH_JWT_SECRET or TABMESH_JWKS_URL, and starts open only with TABMESH_AUTH=off, warning on each request', async () => {
    const m = await startAccessMesh();
    try {
      const logger = pino({ level: 'silent' });
      const err = await startGateway(
        { ...testConfig(m.server.url, m.server.serviceEnv('gateway')), TABMESH_JWT_SECRET: undefined },
        logger,
      ).then(
        async (g) => {
          await g.stop();
          return null;
        },
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as Error).message).toMatch(/TABMESH_JWT_SECRET/);
      expect((err as Error).message).toMatch(/TABMESH_JWKS_URL/);
      expect((err as Error).message).toMatch(/TABMESH_AUTH=off/);

      const lines: LogLine[] = [];
      const open = await startGateway(
        testConfig(m.server.url, { ...m.server.serviceEnv('gateway'), TABMESH_AUTH: 'off' }),
        pino({ level: 'warn' }, { write: (l: string) => void lines.push(JSON.parse(l) as LogLine) }),
      );
      try {
        const org = uniqueId('org');
        const res = await fetch(`http://127.0.0.1:${open.httpPort}/v1/orgs/${org}/tasks/t/tabs`);
        expect(res.status).toBe(200);
        await fetch(`http://127.0.0.1:${open.httpPort}/v1/orgs/${org}/tasks/t`);
        expect(lines.filter((l) => l.msg === 'TABMESH_AUTH=off: request not authenticated')).toHaveLength(2);
        const c = await TestWsClient.connect(`ws://127.0.0.1:${open.wsPort}/v1/ws`);
        c.send({ op: 'subscribe', org, task: 't' });
        expect(await c.waitForCount(1)).toMatchObject([{ type: 'snapshot' }]);
        c.destroy();
        // Open, but still not to other sites' pages.
        expect(
          (
            await fetch(`http://127.0.0.1:${open.httpPort}/v1/orgs/${org}/tasks/t`, {
              headers: { origin: 'https://evil.example' },
            })
          ).status,
        ).toBe(403);
      } finally {
        await open.stop();
      }
    } finally {
      await m.stop();
    }
  });

  it('checks issuer and audience when configured: a token without them or with others is 401', async () => {
    const m = await startAccessMesh({ TABMESH_JWT_ISSUER: 'https://id.example', TABMESH_JWT_AUDIENCE: 'tabmesh' });
    try {
      const org = uniqueId('org');
      const path = `/v1/orgs/${org}/tasks/t`;
      const token = (issuer?: string, audience?: string) =>
        mintToken({
          secret: Secret,
          sub: 'ana',
          orgs: [org],
          ttlSeconds: 600,
          ...(issuer ? { issuer } : {}),
          ...(audience ? { audience } : {}),
        });
      for (const wrong of [
        await token(),
        await token('https://evil.example', 'tabmesh'),
        await token('https://id.example', 'other'),
      ]) {
        await problemOf(
          await m.http(path, { headers: { authorization: `Bearer ${wrong}` } }),
          401,
          ErrorCode.Unauthenticated,
        );
        expect((await refusedUpgrade(m.wsUrl(`?access_token=${wrong}`))).status).toBe(401);
      }
      expect(
        (await m.http(path, { headers: { authorization: `Bearer ${await token('https://id.example', 'tabmesh')}` } }))
          .status,
      ).toBe(200);
    } finally {
      await m.stop();
    }
  });

  it('accepts RS256 tokens of an identity provider from its JWKS, on HTTP and the upgrade, and refuses its other keys and HS256', async () => {
    const { publicKey, privateKey } = await generateKeyPair('RS256');
    const other = await generateKeyPair('RS256');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'idp-1', alg: 'RS256', use: 'sig' };
    const jwks = createServer((_req, res) =>
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] })),
    );
    await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/.well-known/jwks.json`;
    // No secret: only the identity provider's keys count.
    const m = await startAccessMesh({ TABMESH_JWT_SECRET: '', TABMESH_JWKS_URL: url });
    try {
      const org = uniqueId('org');
      const sign = (key: CryptoKey, kid = 'idp-1') =>
        new SignJWT({ orgs: [org] })
          .setProtectedHeader({ alg: 'RS256', kid })
          .setSubject('idp-user')
          .setExpirationTime(now() + 600)
          .sign(key);
      const good = await sign(privateKey);
      expect((await m.http(`/v1/orgs/${org}/tasks/t`, { headers: { authorization: `Bearer ${good}` } })).status).toBe(
        200,
      );
      const c = await TestWsClient.connect(m.wsUrl(`?access_token=${good}`));
      c.send({ op: 'subscribe', org, task: 't' });
      expect(await c.waitForCount(1)).toMatchObject([{ type: 'snapshot' }]);
      c.destroy();
      for (const bad of [await sign(other.privateKey), await sign(privateKey, 'idp-2'), await mint([org])]) {
        await problemOf(
          await m.http(`/v1/orgs/${org}/tasks/t`, { headers: { authorization: `Bearer ${bad}` } }),
          401,
          ErrorCode.Unauthenticated,
        );
      }
    } finally {
      await m.stop();
      await new Promise<void>((resolve) => jwks.close(() => resolve()));
    }
  });
});
