import {
  clipText,
  ErrorCode,
  encodeText,
  LimitReachedError,
  MaxErrorMessageLength,
  MaxProgressLength,
  ServerFrameSchema,
  ServerFrameType,
  Step,
  TabCreateRequestSchema,
  TabmeshError,
  type TabRecord,
  TabState,
  TaskProvisioning,
  toError,
} from '@tabmesh/contracts';
import { ConfigSchema, TabStore, TaskStore } from '@tabmesh/runtime';
import { sleep, uniqueId } from '@tabmesh/testkit';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { onError } from '../src/http/problem.js';
import {
  type Harness,
  newTabId,
  putTab,
  putTask,
  startHarness,
  tabRecord,
  taskRecord,
  validFrames,
} from './support/harness.js';

const defaults = ConfigSchema.parse({});
/**
 * Every text at its bound, in the characters a frame spends most on. Caller text (title, model,
 * clientRequestId) refuses control characters, so its worst is a three-byte character ('€').
 * Mesh-written text with no alphabet (agent, sessionId, provider) is given JSON's worst, a control
 * character (six bytes, `\u0001`). Progress and error messages are clipped by the state machines
 * (MaxProgressLength, MaxErrorMessageLength), control characters replaced.
 */
const worst = (n: number) => '\u0001'.repeat(n);
const wide = (n: number) => '€'.repeat(n);
const org = 'o'.repeat(64);
const task = 't'.repeat(64);

function maxTab(): TabRecord {
  return tabRecord(org, task, {
    id: newTabId(),
    state: TabState.Error,
    title: wide(200),
    agent: worst(64),
    model: wide(128),
    clientRequestId: wide(128),
    sessionId: worst(256),
    sandboxId: 's'.repeat(64),
    progress: wide(MaxProgressLength),
    step: Step.CreatingSession,
    error: {
      code: ErrorCode.SandboxStartTimeout,
      message: wide(MaxErrorMessageLength),
      retryable: true,
      retryAfterSeconds: 2 ** 31,
    },
    attempt: 2 ** 31,
    readyAt: new Date().toISOString(),
    closedAt: null,
    unread: true,
  });
}

const maxTask = () =>
  taskRecord(org, task, {
    state: TaskProvisioning.Error,
    generation: 2 ** 31,
    progress: wide(MaxProgressLength),
    sandbox: { provider: worst(64), id: 's'.repeat(64) },
    error: { code: ErrorCode.ProvisionFailed, message: wide(MaxErrorMessageLength), retryable: true },
    provisionedAt: new Date().toISOString(),
  });

describe('the snapshot of a full task fits under the socket send cap', () => {
  it(`encodes ${defaults.TABMESH_MAX_TABS_PER_TASK} tabs with every field at its bound well under GATEWAY_WS_MAX_BACKPRESSURE`, () => {
    const tabs = Array.from({ length: defaults.TABMESH_MAX_TABS_PER_TASK }, () => ({
      ...maxTab(),
      revision: Number.MAX_SAFE_INTEGER,
    }));
    const { sandbox, ...status } = maxTask();
    const text = encodeText(
      ServerFrameSchema,
      {
        v: 1,
        type: ServerFrameType.Snapshot,
        org,
        task,
        tabs,
        taskStatus: {
          ...status,
          sandbox: { provider: sandbox!.provider, id: sandbox!.id },
          revision: Number.MAX_SAFE_INTEGER,
        },
        revision: Number.MAX_SAFE_INTEGER,
      },
      'snapshot',
    );
    const bytes = Buffer.byteLength(text);
    // The fields really are at their bounds: one character more, or a costlier one, is refused or clipped.
    expect(() =>
      encodeText(ServerFrameSchema, { v: 1, type: ServerFrameType.Tab, tab: { ...tabs[0]!, title: wide(201) } }, 'tab'),
    ).toThrow();
    expect(() =>
      encodeText(
        ServerFrameSchema,
        { v: 1, type: ServerFrameType.Tab, tab: { ...tabs[0]!, sessionId: worst(257) } },
        'tab',
      ),
    ).toThrow();
    const request = { v: 1, org: 'o', task: 't' };
    expect(TabCreateRequestSchema.safeParse({ ...request, title: worst(1) }).success).toBe(false);
    expect(TabCreateRequestSchema.safeParse({ ...request, model: worst(1) }).success).toBe(false);
    expect(TabCreateRequestSchema.safeParse({ ...request, clientRequestId: '\ud800' }).success).toBe(false);
    expect(
      TabCreateRequestSchema.safeParse({ ...request, title: wide(200), model: wide(128), clientRequestId: wide(128) })
        .success,
    ).toBe(true);
    const failed = toError(
      { ...tabs[0]!, state: TabState.PendingSessionCreate },
      { code: ErrorCode.SessionFailed, message: worst(10_000), retryable: true },
    );
    expect(failed!.error!.message).toHaveLength(MaxErrorMessageLength);
    expect(failed!.error!.message).not.toContain('\u0001');
    expect(clipText(wide(1000), MaxProgressLength)).toHaveLength(MaxProgressLength);
    expect(bytes).toBeGreaterThan(500_000); // the worst case is what was encoded
    // Margin: at most two thirds of the cap (the worst case is about 60%), so the socket's other
    // frames and unread sends still fit.
    expect(bytes).toBeLessThan(defaults.GATEWAY_WS_MAX_BACKPRESSURE * (2 / 3));
  });

  describe('through the gateway', () => {
    let h: Harness;
    beforeAll(async () => {
      h = await startHarness(); // the default send cap
    });
    afterAll(() => h.stop());

    it('sends a subscriber of a full task its snapshot and keeps the socket', async () => {
      const o = uniqueId('org');
      const t = uniqueId('task');
      await putTask(new TaskStore(h.tasks.kv), { ...maxTask(), org: o, task: t });
      for (let i = 0; i < defaults.TABMESH_MAX_TABS_PER_TASK; i++)
        await putTab(new TabStore(h.tabs.kv), { ...maxTab(), org: o, task: t });
      const clients = await Promise.all([h.ws(), h.ws(), h.ws()]);
      for (const c of clients) c.send({ op: 'subscribe', org: o, task: t });
      for (const c of clients) await c.waitForCount(1, 10_000);
      for (const c of clients) {
        const [snapshot] = validFrames(c);
        expect(snapshot).toMatchObject({ type: 'snapshot', org: o, task: t });
        if (snapshot?.type !== 'snapshot') throw new Error('unreachable');
        expect(snapshot.tabs).toHaveLength(defaults.TABMESH_MAX_TABS_PER_TASK);
      }
      // Still subscribed and open: a later change reaches every one of them.
      await putTab(h.tabs, tabRecord(o, t, { title: 'one more' }));
      for (const c of clients) await c.waitForCount(2, 10_000);
      await sleep(100);
      expect(clients.every((c) => !c.closed)).toBe(true);
      expect(h.gateway.metrics.wsBackpressureDrops.get()).toBe(0);
    });
  });
});

describe('Retry-After', () => {
  const app = new Hono();
  app.onError(onError as never);
  app.get('/known', () => {
    throw new LimitReachedError('too many', 7);
  });
  app.get('/unknown', () => {
    throw new LimitReachedError('too many');
  });

  it('is set on a limit_reached problem when the wait is known, and only then', async () => {
    const known = await app.request('/known');
    expect(known.status).toBe(429);
    expect(known.headers.get('retry-after')).toBe('7');
    expect(await known.json()).toMatchObject({ code: 'limit_reached', status: 429 });
    const unknown = await app.request('/unknown');
    expect(unknown.status).toBe(429);
    expect(unknown.headers.get('retry-after')).toBeNull();
  });

  it('crosses the bus as data: the wait survives toInfo and fromInfo', async () => {
    const back = TabmeshError.fromInfo(new LimitReachedError('x', 3).toInfo());
    expect(back).toBeInstanceOf(LimitReachedError);
    expect((back as LimitReachedError).retryAfterSeconds).toBe(3);
    expect(back.httpStatus).toBe(429);
  });
});
