import { request as httpRequest } from 'node:http';
import type { Msg, Subscription } from '@nats-io/transport-node';
import {
  decode,
  ErrorCode,
  encode,
  Headers,
  ProblemSchema,
  problemType,
  Subjects,
  TabCreateRequestSchema,
  TabListResponseSchema,
  TabRefRequestSchema,
  type TabReply,
  TabReplySchema,
  TabResponseSchema,
  TabState,
  TaskReplySchema,
  TaskResponseSchema,
  TeardownResponseSchema,
} from '@tabmesh/contracts';
import { TabStore, TaskStore } from '@tabmesh/runtime';
import { uniqueId } from '@tabmesh/testkit';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, putTab, putTask, startHarness, tabRecord, taskRecord, updateTab } from './support/harness.js';

const json = (body: unknown): RequestInit => ({
  method: 'POST',
  headers: { 'Content-Type': 'application/json' },
  body: typeof body === 'string' ? body : JSON.stringify(body),
});

async function expectProblem(res: Response, status: number, code: string, detail?: RegExp) {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  const problem = ProblemSchema.parse(await res.json());
  expect(problem).toMatchObject({ status, code, type: problemType(code) });
  expect(problem.requestId).toBe(res.headers.get('x-request-id'));
  if (detail) expect(problem.detail).toMatch(detail);
  return problem;
}

describe('gateway HTTP API', () => {
  let h: Harness;
  const responders: Subscription[] = [];

  beforeAll(async () => {
    h = await startHarness({}, { requestTimeoutMs: 500 });
  });
  afterAll(async () => {
    await h.stop();
  });
  afterEach(() => {
    while (responders.length) responders.pop()!.unsubscribe();
  });

  /** Plays tab-registry on one subject; resolves once the server knows the subscription. */
  async function respond(subject: string, answer: (msg: Msg) => Uint8Array): Promise<Msg[]> {
    const seen: Msg[] = [];
    responders.push(
      h.nc.subscribe(subject, {
        callback: (_err, msg) => {
          seen.push(msg);
          msg.respond(answer(msg));
        },
      }),
    );
    await h.nc.flush();
    return seen;
  }

  describe('bad input', () => {
    it.each([
      ['an org id with a space', '/v1/orgs/a%20b/tasks/t/tabs', /org/],
      ['an org id with a dot', '/v1/orgs/a.b/tasks/t/tabs', /org/],
      ['a task id that is too long', `/v1/orgs/o/tasks/${'x'.repeat(65)}/tabs`, /task/],
      ['a tab id that is not a ULID', '/v1/orgs/o/tasks/t/tabs/not-a-ulid', /tab/],
    ])('rejects %s with 400 invalid_request', async (_what, path, detail) => {
      await expectProblem(await h.http(path), 400, ErrorCode.InvalidRequest, detail);
    });

    it('rejects an invalid task id on GET task and DELETE task', async () => {
      await expectProblem(await h.http('/v1/orgs/o/tasks/a*b'), 400, ErrorCode.InvalidRequest, /task/);
      await expectProblem(await h.http('/v1/orgs/o/tasks/a*b', { method: 'DELETE' }), 400, ErrorCode.InvalidRequest);
    });

    it('rejects malformed JSON with a clear detail and sends nothing to the bus', async () => {
      const seen = await respond(Subjects.tabCreate, () => new Uint8Array());
      const res = await h.http('/v1/orgs/o/tasks/t/tabs', json('{"title": '));
      await expectProblem(res, 400, ErrorCode.InvalidRequest, /not valid JSON/);
      expect(seen).toHaveLength(0);
    });

    it('rejects wrong types, naming the field', async () => {
      await expectProblem(
        await h.http('/v1/orgs/o/tasks/t/tabs', json({ title: 42 })),
        400,
        ErrorCode.InvalidRequest,
        /title/,
      );
      await expectProblem(await h.http('/v1/orgs/o/tasks/t/tabs', json([1, 2])), 400, ErrorCode.InvalidRequest);
    });

    it('rejects unknown fields', async () => {
      const res = await h.http('/v1/orgs/o/tasks/t/tabs', json({ title: 'x', sandboxId: 'sneaky' }));
      await expectProblem(res, 400, ErrorCode.InvalidRequest, /sandboxId/);
    });

    it('refuses a body that is not declared as JSON with 415', async () => {
      const res = await h.http('/v1/orgs/o/tasks/t/tabs', {
        method: 'POST',
        headers: { 'Content-Type': 'text/plain' },
        body: '{}',
      });
      await expectProblem(res, 415, ErrorCode.UnsupportedMediaType, /content-type/);
    });

    it('refuses a body over 16 KiB with 413', async () => {
      const res = await h.http('/v1/orgs/o/tasks/t/tabs', json({ title: 'x'.repeat(17 * 1024) }));
      await expectProblem(res, 413, ErrorCode.InvalidRequest, /larger than/);
    });

    it('refuses a chunked body over 16 KiB with 413 (no Content-Length to go by)', async () => {
      const bytes = new TextEncoder().encode(JSON.stringify({ title: 'x'.repeat(17 * 1024) }));
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(bytes.subarray(0, 8 * 1024));
          controller.enqueue(bytes.subarray(8 * 1024));
          controller.close();
        },
      });
      const init = { method: 'POST', headers: { 'Content-Type': 'application/json' }, body, duplex: 'half' };
      const res = await h.http('/v1/orgs/o/tasks/t/tabs', init as RequestInit);
      await expectProblem(res, 413, ErrorCode.InvalidRequest, /larger than/);
    });

    it('answers an unknown route with a 404 problem', async () => {
      await expectProblem(await h.http('/v2/nothing'), 404, ErrorCode.NotFound);
    });
  });

  describe('reads', () => {
    it('answers a task never seen as unprovisioned (200)', async () => {
      const res = await h.http(`/v1/orgs/o/tasks/${uniqueId('never')}`);
      expect(res.status).toBe(200);
      const body = TaskResponseSchema.parse(await res.json());
      expect(body.task.state).toBe('unprovisioned');
      expect(body.task.revision).toBe(0);
    });

    it('answers a known task with its status and without the sandbox token', async () => {
      const org = uniqueId('org');
      const task = uniqueId('task');
      // A record as written before credentials moved to `sandbox-secrets` still shows none of them.
      const legacySandbox = { provider: 'sim', id: 'sb-1', endpoint: 'http://x', token: 'secret' };
      await putTask(h.tasks, taskRecord(org, task, { state: 'provisioned', sandbox: legacySandbox }));
      const res = await h.http(`/v1/orgs/${org}/tasks/${task}`);
      const text = await res.text();
      expect(text).not.toContain('secret');
      const body = TaskResponseSchema.parse(JSON.parse(text));
      expect(body.task).toMatchObject({ state: 'provisioned', sandbox: { provider: 'sim', id: 'sb-1' } });
      expect(body.task.revision).toBeGreaterThan(0);
    });

    it('answers an unknown tab with 404', async () => {
      const missing = tabRecord('o', 't').id;
      await expectProblem(await h.http(`/v1/orgs/o/tasks/t/tabs/${missing}`), 404, ErrorCode.NotFound);
    });

    it('lists the open tabs in id order with a revision, and keeps closed tabs readable by id', async () => {
      const org = uniqueId('org');
      const task = uniqueId('task');
      const a = await putTab(h.tabs, tabRecord(org, task, { title: 'a' }));
      const b = await putTab(h.tabs, tabRecord(org, task, { title: 'b' }));
      const c = await putTab(h.tabs, tabRecord(org, task, { title: 'c' }));
      await putTab(h.tabs, tabRecord(org, uniqueId('other'), { title: 'elsewhere' }));
      const closed = await updateTab(h.tabs, b, { state: TabState.Closed, closedAt: new Date().toISOString() });

      const res = await h.http(`/v1/orgs/${org}/tasks/${task}/tabs`);
      expect(res.status).toBe(200);
      const list = TabListResponseSchema.parse(await res.json());
      expect(list.tabs.map((t) => t.title)).toEqual(['a', 'c']);
      expect(list.tabs.map((t) => t.revision)).toEqual([a.revision, c.revision]);
      const last = (await h.tabs.kv.status()).streamInfo.state.last_seq;
      expect(list.revision).toBe(last);
      expect(list.revision).toBeGreaterThanOrEqual(closed.revision);

      const one = await h.http(`/v1/orgs/${org}/tasks/${task}/tabs/${b.record.id}`);
      expect(one.status).toBe(200);
      const body = TabResponseSchema.parse(await one.json());
      expect(body.tab).toMatchObject({ id: b.record.id, state: 'closed', revision: closed.revision });
    });
  });

  describe('writes through tab-registry', () => {
    const replyTab = (msg: Msg, created: boolean): Uint8Array => {
      const req = decode(TabCreateRequestSchema, msg.data, 'req');
      const record = tabRecord(req.org, req.task, {
        title: req.title ?? '',
        clientRequestId: req.clientRequestId ?? null,
      });
      return encode(
        TabReplySchema,
        { v: 1, ok: true, tab: TabStore.view({ value: record, revision: 7 }), created },
        'reply',
      );
    };

    it('creates a tab (201), passing the request id as the correlation id, and 200 on a repeat', async () => {
      let created = true;
      const seen = await respond(Subjects.tabCreate, (msg) => replyTab(msg, created));
      const res = await h.http('/v1/orgs/o/tasks/t/tabs', {
        ...json({ title: 'hello', clientRequestId: 'c-1', v: 1 }),
        headers: { 'Content-Type': 'application/json', 'X-Request-Id': 'req-123' },
      });
      expect(res.status).toBe(201);
      expect(res.headers.get('x-request-id')).toBe('req-123');
      const body = TabResponseSchema.parse(await res.json());
      expect(body.tab).toMatchObject({ org: 'o', task: 't', title: 'hello', state: 'pending_provision' });
      expect(seen).toHaveLength(1);
      expect(seen[0]!.headers?.get(Headers.correlationId)).toBe('req-123');
      expect(decode(TabCreateRequestSchema, seen[0]!.data, 'req')).toEqual({
        v: 1,
        org: 'o',
        task: 't',
        title: 'hello',
        clientRequestId: 'c-1',
      });

      created = false;
      const again = await h.http('/v1/orgs/o/tasks/t/tabs', json({ title: 'hello', clientRequestId: 'c-1' }));
      expect(again.status).toBe(200);
      // A request without an id gets a generated one, also on the bus.
      const generated = again.headers.get('x-request-id');
      expect(generated).toMatch(/^[0-9a-f-]{36}$/);
      expect(seen[1]!.headers?.get(Headers.correlationId)).toBe(generated);
    });

    it('reads a body that arrives in pieces, with a Content-Length or chunked', async () => {
      const seen = await respond(Subjects.tabCreate, (msg) => replyTab(msg, true));
      const body = JSON.stringify({ title: `piece ${'x'.repeat(150)}`, clientRequestId: 'pieces-1' });
      const token = await h.mint(['*']);
      const send = (headers: Record<string, string>) =>
        new Promise<number>((resolve, reject) => {
          const req = httpRequest(
            {
              host: '127.0.0.1',
              port: h.gateway.httpPort,
              method: 'POST',
              path: '/v1/orgs/o/tasks/t/tabs',
              headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, ...headers },
            },
            (res) => {
              res.resume();
              res.on('end', () => resolve(res.statusCode ?? 0));
            },
          );
          req.on('error', reject);
          req.write(body.slice(0, 40));
          setTimeout(() => req.end(body.slice(40)), 30);
        });
      expect(await send({ 'content-length': String(Buffer.byteLength(body)) })).toBe(201);
      expect(await send({ 'transfer-encoding': 'chunked' })).toBe(201);
      expect(seen.map((m) => decode(TabCreateRequestSchema, m.data, 'req').title)).toEqual([
        JSON.parse(body).title,
        JSON.parse(body).title,
      ]);
    });

    it('accepts a create with no body at all', async () => {
      await respond(Subjects.tabCreate, (msg) => replyTab(msg, true));
      const res = await h.http('/v1/orgs/o/tasks/t/tabs', { method: 'POST' });
      expect(res.status).toBe(201);
    });

    it('closes (202), retries (202) and marks read (200), sending validated tab refs', async () => {
      const record = tabRecord('o', 't');
      const refs: unknown[] = [];
      const ok = (msg: Msg) => {
        refs.push(decode(TabRefRequestSchema, msg.data, 'ref'));
        return encode(
          TabReplySchema,
          { v: 1, ok: true, tab: TabStore.view({ value: record, revision: 3 }), created: false },
          'r',
        );
      };
      await respond(Subjects.tabClose, ok);
      await respond(Subjects.tabRetry, ok);
      await respond(Subjects.tabRead, ok);
      const base = `/v1/orgs/o/tasks/t/tabs/${record.id}`;
      expect((await h.http(base, { method: 'DELETE' })).status).toBe(202);
      expect((await h.http(`${base}/retry`, { method: 'POST' })).status).toBe(202);
      const read = await h.http(`${base}/read`, { method: 'POST' });
      expect(read.status).toBe(200);
      TabResponseSchema.parse(await read.json());
      expect(refs).toEqual([1, 2, 3].map(() => ({ v: 1, org: 'o', task: 't', tab: record.id })));
    });

    it.each([
      [ErrorCode.InvalidTransition, 409],
      [ErrorCode.NotFound, 404],
      [ErrorCode.InvalidRequest, 400],
      [ErrorCode.Unavailable, 503],
      [ErrorCode.Internal, 500],
    ] as const)('maps a registry error %s to %i with its message', async (code, status) => {
      await respond(Subjects.tabRetry, () =>
        encode(
          TabReplySchema,
          { v: 1, ok: false, error: { code, message: `registry says ${code}`, retryable: false } } satisfies TabReply,
          'r',
        ),
      );
      const res = await h.http(`/v1/orgs/o/tasks/t/tabs/${tabRecord('o', 't').id}/retry`, { method: 'POST' });
      await expectProblem(res, status, code, new RegExp(`registry says ${code}`));
    });

    it('answers 503 unavailable when no tab-registry answers', async () => {
      const res = await h.http('/v1/orgs/o/tasks/t/tabs', json({}));
      await expectProblem(res, 503, ErrorCode.Unavailable, /tab\.create/);
    });

    it('answers 500 when the registry reply breaks the contract', async () => {
      await respond(Subjects.tabCreate, () => new TextEncoder().encode('{"v":1,"ok":true}'));
      await expectProblem(await h.http('/v1/orgs/o/tasks/t/tabs', json({})), 500, ErrorCode.Internal, /reply/);
    });

    it('tears a task down with task.teardown (202)', async () => {
      const seen = await respond(Subjects.taskTeardown, () =>
        encode(
          TaskReplySchema,
          { v: 1, ok: true, task: TaskStore.view(taskRecord('o', 't', { state: 'unprovisioned' }), 9), closedTabs: 2 },
          'r',
        ),
      );
      const res = await h.http('/v1/orgs/o/tasks/t', { method: 'DELETE' });
      expect(res.status).toBe(202);
      const body = TeardownResponseSchema.parse(await res.json());
      expect(body.closedTabs).toBe(2);
      expect(JSON.parse(new TextDecoder().decode(seen[0]!.data))).toEqual({ v: 1, org: 'o', task: 't' });
    });
  });

  describe('operations', () => {
    it('is live and ready, and exports metrics', async () => {
      expect((await h.http('/healthz')).status).toBe(200);
      expect((await h.http('/readyz')).status).toBe(200);
      const res = await h.http('/metrics');
      expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
      const text = await res.text();
      expect(text).toMatch(
        /tabmesh_gateway_http_requests_total\{method="GET",route="\/v1\/orgs\/:org\/tasks\/:task",status="200"\} \d+/,
      );
      expect(text).toMatch(/tabmesh_gateway_tab_create_seconds_count \d+/);
      expect(text).toContain('# TYPE tabmesh_gateway_ws_connections gauge');
    });
  });
});
