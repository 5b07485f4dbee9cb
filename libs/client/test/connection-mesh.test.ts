import { ErrorCode, type Tab, TabState, taskProgressKey } from '@tabmesh/contracts';
import { uniqueId, waitFor } from '@tabmesh/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backoffCeiling, type ConnectionStateEvent, type Refresh, type TaskView } from '../src/index.js';
import { GatewayMesh, mintToken } from './support/gateway-mesh.js';

type Seen = { view: TaskView; refresh: Refresh };

/** Every tab change a listener was told about, by any refresh: the transitions it saw. */
function transitions(log: Seen[]): Array<{ id: string; state: string; revision: number }> {
  const out: Array<{ id: string; state: string; revision: number }> = [];
  for (const { view, refresh } of log) {
    const tabs: Tab[] =
      refresh.reason === 'bootstrap'
        ? [...view.tabs.values()]
        : refresh.reason === 'event'
          ? refresh.frame === 'tab'
            ? [refresh.tab]
            : []
          : refresh.tabs;
    for (const t of tabs) out.push({ id: t.id, state: t.state, revision: t.revision });
  }
  return out;
}

describe('TabmeshConnection against a real gateway and mesh', () => {
  let m: GatewayMesh;
  beforeAll(async () => {
    m = await GatewayMesh.start();
  });
  afterAll(() => m?.stop());

  const ids = () => ({ org: uniqueId('org'), task: uniqueId('task') });
  const serverSubscriptions = () => m.gateway.metrics.wsSubscriptions.get();
  const serverConnections = () => m.gateway.metrics.wsConnections.get();

  it('shares one socket and one server subscription between two subscribers of a task', async () => {
    const { org, task } = ids();
    const other = ids();
    const baseSubs = serverSubscriptions();
    const baseConns = serverConnections();
    const conn = m.connection();
    const a: Seen[] = [];
    const b: Seen[] = [];
    const subA = conn.subscribe(org, task, (view, refresh) => a.push({ view, refresh }));
    const subB = conn.subscribe(org, task, (view, refresh) => b.push({ view, refresh }));
    const subC = conn.subscribe(other.org, other.task, () => {});
    await waitFor('both subscribers bootstrapped', () => a.length > 0 && b.length > 0);
    await waitFor('server holds two task subscriptions', () => serverSubscriptions() === baseSubs + 2);
    expect(serverConnections()).toBe(baseConns + 1);
    expect(conn.stats).toMatchObject({ socketsOpened: 1, subscribeFrames: 2, unsubscribeFrames: 0 });

    const created = (await m.http().createTab(org, task, { title: 'shared' })).tab;
    await waitFor('both see the tab ready', () =>
      [a, b].every((log) => log.at(-1)?.view.tabs.get(created.id)?.state === TabState.Ready),
    );
    expect(transitions(b)).toEqual(transitions(a));
    expect(b.map((s) => s.refresh)).toEqual(a.map((s) => s.refresh));

    subA.unsubscribe();
    await new Promise((r) => setTimeout(r, 100));
    expect(serverSubscriptions()).toBe(baseSubs + 2);
    expect(conn.stats.unsubscribeFrames).toBe(0);
    subB.unsubscribe();
    await waitFor(
      'the last subscriber leaving unsubscribes on the server',
      () => serverSubscriptions() === baseSubs + 1,
    );
    expect(conn.stats.unsubscribeFrames).toBe(1);
    subC.unsubscribe();
    await waitFor('no subscriptions left', () => serverSubscriptions() === baseSubs);
    expect(serverConnections()).toBe(baseConns + 1);
    conn.dispose();
    await waitFor('socket closed on dispose', () => serverConnections() === baseConns);
  });

  it('waits within the jittered backoff bounds between attempts, and resets after a connection', async () => {
    const backoff = { baseMs: 40, maxMs: 320 };
    const conn = m.connection({ backoff });
    const events: Array<ConnectionStateEvent & { at: number }> = [];
    conn.on('state', (s) => events.push({ ...s, at: performance.now() }));
    conn.connect();
    await waitFor('open', () => conn.state.state === 'open');

    m.gateway.closeWsListener();
    try {
      await waitFor('seven failed attempts', () => conn.reconnectDelays.length >= 7, 15_000);
    } finally {
      await m.gateway.reopenWsListener();
    }
    await waitFor('open again', () => conn.state.state === 'open', 10_000);

    const delays = conn.reconnectDelays.slice(0, 7);
    delays.forEach((d, i) => {
      const ceiling = backoffCeiling(i, backoff);
      expect(d, `delay ${i}`).toBeGreaterThanOrEqual(ceiling / 2);
      expect(d, `delay ${i}`).toBeLessThanOrEqual(ceiling);
    });
    expect(Math.max(...delays)).toBeLessThanOrEqual(backoff.maxMs);
    // Measured: each scheduled wait really separates one attempt's failure from the next one's.
    const waits = events.filter((e) => e.state === 'reconnecting').slice(0, 7);
    for (let i = 1; i < waits.length; i++) {
      const gap = waits[i]!.at - waits[i - 1]!.at;
      expect(gap, `gap before attempt ${i + 1}`).toBeGreaterThanOrEqual(waits[i - 1]!.delayMs! - 2);
      expect(gap, `gap before attempt ${i + 1}`).toBeLessThan(waits[i - 1]!.delayMs! + 1_000);
    }
    expect(waits.map((e) => e.attempt)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(conn.state.attempt).toBe(0);

    // A new drop starts the schedule over.
    const before = conn.reconnectDelays.length;
    m.gateway.closeWsListener();
    await waitFor('a new wait', () => conn.reconnectDelays.length > before);
    await m.gateway.reopenWsListener();
    expect(conn.reconnectDelays[before]).toBeLessThanOrEqual(backoff.baseMs);
    await waitFor('open again', () => conn.state.state === 'open', 10_000);
    conn.dispose();
  });

  it('resumes after a dropped socket with every change made meanwhile, once, as a reconnect refresh', async () => {
    const { org, task } = ids();
    const http = m.http();
    const conn = m.connection({ backoff: { baseMs: 50, maxMs: 200 } });
    const log: Seen[] = [];
    conn.subscribe(org, task, (view, refresh) => log.push({ view, refresh }));

    const first = (await http.createTab(org, task, { title: 'first' })).tab;
    const kept = (await http.createTab(org, task, { title: 'kept' })).tab;
    await waitFor('both ready on the client', () =>
      [first.id, kept.id].every((id) => log.at(-1)?.view.tabs.get(id)?.state === TabState.Ready),
    );
    const revisionBefore = log.at(-1)!.view.revision;

    m.gateway.closeWsListener();
    await waitFor('client notices the drop', () => conn.state.state === 'reconnecting');
    // Changes while the client is away: a close, a read, and a new tab's whole lifecycle.
    await http.closeTab(org, task, first.id);
    await http.markRead(org, task, kept.id);
    const added = (await http.createTab(org, task, { title: 'added while away' })).tab;
    await m.mesh.waitForState(org, task, added.id, [TabState.Ready]);
    expect(log.at(-1)!.view.tabs.has(first.id)).toBe(true);
    await m.gateway.reopenWsListener();

    await waitFor('a reconnect refresh', () => log.some((s) => s.refresh.reason === 'reconnect'), 10_000);
    const reconnects = log.filter((s) => s.refresh.reason === 'reconnect');
    expect(reconnects).toHaveLength(1);
    const refresh = reconnects[0]!.refresh as Extract<Refresh, { reason: 'reconnect' }>;
    expect(refresh).toMatchObject({ mode: 'replay', sinceRevision: revisionBefore, removed: [first.id] });

    // The client's view equals the server's, revision for revision.
    const server = await http.listTabs(org, task);
    const view = log.at(-1)!.view;
    expect([...view.tabs.values()].map((t) => [t.id, t.state, t.revision, t.unread]).sort()).toEqual(
      server.tabs.map((t) => [t.id, t.state, t.revision, t.unread]).sort(),
    );
    expect(view.tabs.get(kept.id)!.unread).toBe(false);

    // Every transition in KV after the client's first view reached it exactly once, in order.
    const seen = transitions(log);
    const keys = new Set(seen.map((t) => `${t.id}@${t.revision}`));
    expect(keys.size).toBe(seen.length);
    // A transition is a write of the tab, or a step of its task while the tab waited for it (the
    // task's progress entry, `{org}.{task}`, after a write that left the tab in pending_provision).
    const steps: number[] = [];
    for await (const e of await m.mesh.bus.tabs.history({ key: taskProgressKey(org, task) })) steps.push(e.revision);
    for (const id of [first.id, kept.id, added.id]) {
      const writes: Array<{ revision: number; state: string }> = [];
      for await (const e of await m.mesh.bus.tabs.history({ key: `${org}.${task}.${id}` })) {
        writes.push({ revision: e.revision, state: (e.json() as Tab).state });
      }
      const shownSteps = steps.filter(
        (r) => writes.findLast((w) => w.revision < r)?.state === TabState.PendingProvision,
      );
      const history = [...writes.map((w) => w.revision), ...shownSteps].sort((a, b) => a - b);
      const mine = seen.filter((t) => t.id === id).map((t) => t.revision);
      const firstSeen = mine[0]!;
      expect(mine, `transitions of ${id}`).toEqual(history.filter((r) => r >= firstSeen));
    }
    expect(seen.filter((t) => t.id === added.id).map((t) => t.state)).toEqual([
      TabState.PendingSessionCreate,
      TabState.Ready,
    ]);
    conn.dispose();
  });

  describe('with tokens the gateway refuses', () => {
    const states = (conn: ReturnType<GatewayMesh['connection']>) => {
      const seen: ConnectionStateEvent[] = [];
      conn.on('state', (s) => seen.push(s));
      return seen;
    };

    it('goes unauthenticated instead of reconnecting when the upgrade is refused, telling "no token" apart', async () => {
      const { org, task } = ids();
      const wrong = await mintToken('a secret this gateway does not know');
      const refused = m.connection({ token: wrong });
      refused.subscribe(org, task, () => {});
      await waitFor('refused', () => refused.state.state === 'unauthenticated', 10_000);
      expect(refused.state.auth).toEqual({ reason: 'refused', hadToken: true });
      expect(refused.stats.socketsOpened).toBe(0);

      const anonymous = m.connection({ token: () => null });
      anonymous.connect();
      await waitFor('refused without a token', () => anonymous.state.state === 'unauthenticated', 10_000);
      expect(anonymous.state.auth).toEqual({ reason: 'refused', hadToken: false });
      // No more attempts on their own.
      const delays = refused.reconnectDelays.length + anonymous.reconnectDelays.length;
      await new Promise((r) => setTimeout(r, 500));
      expect(refused.reconnectDelays.length + anonymous.reconnectDelays.length).toBe(delays);

      // A good token brings it back, and the subscription with it.
      let bootstrapped = false;
      refused.subscribe(org, task, (_v, r) => (bootstrapped ||= r.reason === 'bootstrap'));
      refused.setToken(await m.mintToken());
      await waitFor('bootstrapped with the new token', () => bootstrapped, 10_000);
      expect(refused.state.state).toBe('open');
    });

    it('stops with reason expired when the gateway closes the socket as its token runs out', async () => {
      const { org, task } = ids();
      const conn = m.connection({ token: await m.mintToken({ ttlSec: 2 }) });
      const seen = states(conn);
      conn.subscribe(org, task, () => {});
      await waitFor('open', () => conn.state.state === 'open', 10_000);
      await waitFor('expired', () => conn.state.state === 'unauthenticated', 10_000);
      expect(conn.state.auth).toEqual({ reason: 'expired', hadToken: true });
      expect(seen.map((s) => s.state)).toEqual(['connecting', 'open', 'unauthenticated']);
    });

    it('refuses HTTP calls as unauthenticated and another org as forbidden, over HTTP and subscribe', async () => {
      const { org, task } = ids();
      const noToken = await m
        .http({ token: () => null })
        .getTask(org, task)
        .catch((e: unknown) => e);
      expect(noToken).toMatchObject({ name: 'TabmeshHttpError', code: ErrorCode.Unauthenticated, status: 401 });
      const onlyA = await m.mintToken({ orgs: ['org-a'] });
      const other = await m
        .http({ token: onlyA })
        .getTask(org, task)
        .catch((e: unknown) => e);
      expect(other).toMatchObject({ code: ErrorCode.Forbidden, status: 403 });

      const conn = m.connection({ token: onlyA });
      const errors: string[] = [];
      conn.on('serverError', (e) => errors.push(e.code));
      const refreshes: Refresh[] = [];
      conn.subscribe(org, task, (_v, r) => refreshes.push(r));
      await waitFor('a forbidden frame', () => errors.length > 0, 10_000);
      expect(errors).toEqual([ErrorCode.Forbidden]);
      expect(conn.state.state).toBe('open');
      expect(refreshes).toEqual([]);
    });
  });
});
