import type { Tab, TaskStatus } from '@tabmesh/contracts';
import { tabRecord, taskRecord } from '@tabmesh/testkit';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type ConnectionOptions, type ConnectionStateEvent, TabmeshConnection } from './connection.js';
import type { WebSocketLike } from './socket.js';
import type { Refresh } from './task-entry.js';

/** A scripted socket: the test opens, feeds and drops it. */
class FakeSocket implements WebSocketLike {
  static all: FakeSocket[] = [];
  readyState = 0;
  sent: unknown[] = [];
  closedByClient = false;
  onopen: ((event: unknown) => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  onclose: ((event: { code: number; reason: string }) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;
  constructor(readonly url: string) {
    FakeSocket.all.push(this);
  }
  send(data: string): void {
    this.sent.push(JSON.parse(data));
  }
  close(): void {
    this.closedByClient = true;
    this.readyState = 3;
  }
  open(): void {
    this.readyState = 1;
    this.onopen?.({});
  }
  receive(frame: unknown): void {
    this.onmessage?.({ data: typeof frame === 'string' ? frame : JSON.stringify(frame) });
  }
  drop(): void {
    this.readyState = 3;
    this.onclose?.({ code: 1006, reason: '' });
  }
  /** The server closes the socket, e.g. 4401 when its token expired. */
  closeByServer(code: number, reason: string): void {
    this.readyState = 3;
    this.onclose?.({ code, reason });
  }
  /**
   * The upgrade is refused: the `ws` package names the status in its error event; a browser's
   * WebSocket (`status` undefined) says nothing, exactly as when the gateway is down.
   */
  refuse(status?: number): void {
    this.readyState = 3;
    this.onerror?.(status === undefined ? {} : { message: `Unexpected server response: ${status}` });
    this.onclose?.({ code: 1006, reason: '' });
  }
  get token(): string | null {
    return new URL(this.url).searchParams.get('access_token');
  }
}

const now = '2025-01-01T00:00:00.000Z';
const tab = (n: number, revision: number, state: Tab['state'] = 'pending_provision'): Tab => ({
  ...tabRecord('o', 't', {
    id: `01J${String(n).padStart(23, '0')}`,
    state,
    title: '',
    progress: null,
    createdAt: now,
    updatedAt: now,
  }),
  revision,
});
const status = (revision: number): TaskStatus => ({
  ...taskRecord('o', 't', { progress: null, updatedAt: now }),
  revision,
});
const snapshot = (tabs: Tab[], revision: number) => ({
  v: 1,
  type: 'snapshot',
  org: 'o',
  task: 't',
  tabs,
  taskStatus: status(1),
  revision,
});

describe('TabmeshConnection (scripted socket)', () => {
  let conn: TabmeshConnection;
  const states: ConnectionStateEvent[] = [];
  const last = () => FakeSocket.all.at(-1)!;

  beforeEach(() => {
    vi.useFakeTimers();
    FakeSocket.all = [];
    states.length = 0;
    conn = new TabmeshConnection({
      url: 'ws://x/v1/ws',
      WebSocket: FakeSocket,
      backoff: { baseMs: 100, maxMs: 800 },
      random: () => 1,
    });
    conn.on('state', (s) => states.push(s));
  });
  afterEach(() => {
    conn.dispose();
    vi.useRealTimers();
  });

  it('shares one socket and one server subscription between subscribers of a task', async () => {
    const a: Refresh[] = [];
    const b: Refresh[] = [];
    const subA = conn.subscribe('o', 't', (_v, r) => a.push(r));
    const subB = conn.subscribe('o', 't', (_v, r) => b.push(r));
    expect(FakeSocket.all).toHaveLength(1);
    last().open();
    expect(last().sent).toEqual([{ op: 'subscribe', org: 'o', task: 't' }]);
    last().receive(snapshot([tab(1, 5)], 5));
    last().receive({ v: 1, type: 'tab', tab: tab(1, 6, 'ready') });
    expect(a.map((r) => r.reason)).toEqual(['bootstrap', 'event']);
    expect(b).toEqual(a);
    subA.unsubscribe();
    subA.unsubscribe();
    expect(last().sent).toHaveLength(1);
    subB.unsubscribe();
    expect(last().sent.at(-1)).toEqual({ op: 'unsubscribe', org: 'o', task: 't' });
  });

  it('greets a late subscriber with the current view as a bootstrap', async () => {
    conn.subscribe('o', 't', () => {});
    last().open();
    last().receive(snapshot([tab(1, 5)], 5));
    const late: Array<[number, Refresh]> = [];
    conn.subscribe('o', 't', (v, r) => late.push([v.tabs.size, r]));
    expect(late).toEqual([]);
    await Promise.resolve();
    expect(late).toEqual([[1, { reason: 'bootstrap', revision: 5 }]]);
    expect(last().sent).toHaveLength(1);
  });

  it('ignores duplicate and stale frames and reports invalid ones', () => {
    const refreshes: Refresh[] = [];
    const invalid: string[] = [];
    conn.on('invalidFrame', (e) => invalid.push(e.reason));
    conn.subscribe('o', 't', (_v, r) => refreshes.push(r));
    last().open();
    last().receive(snapshot([tab(1, 5)], 5));
    last().receive({ v: 1, type: 'tab', tab: tab(1, 5) });
    last().receive({ v: 1, type: 'tab', tab: tab(1, 4, 'ready') });
    last().receive('{not json');
    last().receive({ v: 1, type: 'tab', tab: { id: 'nope' } });
    last().receive({ v: 1, type: 'task', task: status(1) });
    expect(refreshes.map((r) => r.reason)).toEqual(['bootstrap']);
    expect(invalid).toHaveLength(2);
    expect(invalid[0]).toBe('not JSON');
    expect(conn.view('o', 't')?.tabs.get(tab(1, 0).id)?.revision).toBe(5);
  });

  it('reconnects with growing delays and resumes from the highest revision seen', () => {
    const refreshes: Refresh[] = [];
    conn.subscribe('o', 't', (_v, r) => refreshes.push(r));
    last().open();
    last().receive(snapshot([tab(1, 5)], 5));
    last().receive({ v: 1, type: 'tab', tab: tab(2, 7) });
    last().drop();
    expect(conn.state).toMatchObject({ state: 'reconnecting', attempt: 1, delayMs: 100 });
    vi.advanceTimersByTime(99);
    expect(FakeSocket.all).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(FakeSocket.all).toHaveLength(2);
    last().drop();
    vi.advanceTimersByTime(200);
    last().drop();
    vi.advanceTimersByTime(400);
    expect(conn.reconnectDelays).toEqual([100, 200, 400]);
    last().open();
    expect(conn.state).toMatchObject({ state: 'open', attempt: 0 });
    expect(last().sent).toEqual([{ op: 'subscribe', org: 'o', task: 't', sinceRevision: 7 }]);
    last().receive({ v: 1, type: 'tab', tab: tab(2, 7) });
    last().receive({ v: 1, type: 'tab', tab: tab(2, 8, 'ready') });
    last().receive({ v: 1, type: 'tab', tab: tab(1, 9, 'closed') });
    expect(refreshes.map((r) => r.reason)).toEqual(['bootstrap', 'event']);
    last().receive({ v: 1, type: 'task', task: status(1) });
    expect(refreshes.at(-1)).toEqual({
      reason: 'reconnect',
      mode: 'replay',
      sinceRevision: 7,
      tabs: [tab(2, 8, 'ready'), tab(1, 9, 'closed')],
      removed: [tab(1, 0).id],
    });
    expect([...conn.view('o', 't')!.tabs.keys()]).toEqual([tab(2, 0).id]);
    expect(states.map((s) => s.state)).toEqual([
      'connecting',
      'open',
      'reconnecting',
      'reconnecting',
      'reconnecting',
      'open',
    ]);
  });

  it('reports a resume answered by a snapshot as a reconnect with what changed', () => {
    const refreshes: Refresh[] = [];
    conn.subscribe('o', 't', (_v, r) => refreshes.push(r));
    last().open();
    last().receive(snapshot([tab(1, 5), tab(2, 6)], 6));
    last().drop();
    vi.advanceTimersByTime(100);
    last().open();
    last().receive(snapshot([tab(2, 8, 'ready')], 20));
    expect(refreshes.at(-1)).toEqual({
      reason: 'reconnect',
      mode: 'snapshot',
      sinceRevision: 6,
      tabs: [tab(2, 8, 'ready')],
      removed: [tab(1, 0).id],
    });
    expect(conn.view('o', 't')!.revision).toBe(20);
  });

  it('stops for good on dispose: socket closed, no timer, no reconnect', () => {
    conn.subscribe('o', 't', () => {});
    last().open();
    last().drop();
    expect(vi.getTimerCount()).toBe(1);
    conn.dispose();
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(10_000);
    expect(FakeSocket.all).toHaveLength(1);
    expect(states.at(-1)?.state).toBe('closed');
    expect(() => conn.subscribe('o', 't', () => {})).toThrow(/dispose/);
  });

  it('closes an open socket on dispose and ignores its late events', () => {
    const refreshes: Refresh[] = [];
    conn.subscribe('o', 't', (_v, r) => refreshes.push(r));
    const socket = last();
    socket.open();
    conn.dispose();
    expect(socket.closedByClient).toBe(true);
    socket.receive(snapshot([], 1));
    expect(refreshes).toEqual([]);
  });

  it('subscribes again after the gateway could not load a task, and only for tasks still waiting', () => {
    const errors: string[] = [];
    conn.on('serverError', (e) => errors.push(e.code));
    conn.subscribe('o', 't', () => {});
    conn.subscribe('o', 'live', () => {});
    last().open();
    last().receive({ ...snapshot([], 1), task: 'live', taskStatus: { ...status(1), task: 'live' } });
    last().receive({
      v: 1,
      type: 'error',
      code: 'unavailable',
      detail: 'task o/t could not be loaded; subscribe again',
    });
    expect(errors).toEqual(['unavailable']);
    expect(last().sent).toHaveLength(2);
    vi.advanceTimersByTime(100);
    expect(last().sent.slice(2)).toEqual([{ op: 'subscribe', org: 'o', task: 't' }]);
  });

  it('refuses ids the gateway would refuse', () => {
    expect(() => conn.subscribe('o.x', 't', () => {})).toThrow(/org/);
    expect(FakeSocket.all).toHaveLength(0);
  });

  it('leaves error frames for an org the token does not cover to the page: reported, not retried', () => {
    const errors: string[] = [];
    conn.on('serverError', (e) => errors.push(e.code));
    conn.subscribe('o', 't', () => {});
    last().open();
    last().receive({ v: 1, type: 'error', code: 'forbidden', detail: 'org o is not in this token' });
    vi.advanceTimersByTime(10_000);
    expect(errors).toEqual(['forbidden']);
    expect(last().sent).toEqual([{ op: 'subscribe', org: 'o', task: 't' }]);
  });
});

describe('TabmeshConnection tokens', () => {
  const conns: TabmeshConnection[] = [];
  const last = () => FakeSocket.all.at(-1)!;
  const make = (opts: Partial<ConnectionOptions> = {}) => {
    const c = new TabmeshConnection({
      url: 'ws://x/v1/ws',
      WebSocket: FakeSocket,
      backoff: { baseMs: 100, maxMs: 800 },
      random: () => 1,
      ...opts,
    });
    conns.push(c);
    return c;
  };
  const statesOf = (c: TabmeshConnection) => {
    const seen: ConnectionStateEvent[] = [];
    c.on('state', (s) => seen.push(s));
    return seen;
  };

  beforeEach(() => {
    vi.useFakeTimers();
    FakeSocket.all = [];
  });
  afterEach(() => {
    for (const c of conns.splice(0)) c.dispose();
    vi.useRealTimers();
  });

  it('puts the token in the upgrade URL as access_token, URL-encoded, keeping the query', () => {
    make({ url: 'ws://x/v1/ws?client=page', token: 'a.b/c+d=' }).connect();
    expect(last().url).toBe('ws://x/v1/ws?client=page&access_token=a.b%2Fc%2Bd%3D');
    expect(last().token).toBe('a.b/c+d=');
    make({ token: () => null }).connect();
    expect(last().url).toBe('ws://x/v1/ws');
  });

  it('asks the token provider before every connect and reconnect, awaiting one that is async', async () => {
    let n = 0;
    const c = make({ token: async () => `t${++n}` });
    c.subscribe('o', 't', () => {});
    expect(FakeSocket.all).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(0);
    expect(FakeSocket.all.map((s) => s.token)).toEqual(['t1']);
    last().open();
    last().drop();
    await vi.advanceTimersByTimeAsync(100);
    expect(FakeSocket.all.map((s) => s.token)).toEqual(['t1', 't2']);
    last().refuse();
    await vi.advanceTimersByTimeAsync(200);
    expect(FakeSocket.all.map((s) => s.token)).toEqual(['t1', 't2', 't3']);
    expect(n).toBe(3);
  });

  it('stops on a 4401 close when the provider still has the expired token, and resumes on setToken', () => {
    const c = make({ token: () => 'old' });
    const states = statesOf(c);
    c.subscribe('o', 't', () => {});
    last().open();
    last().receive(snapshot([tab(1, 5)], 5));
    last().closeByServer(4401, 'token expired');
    expect(c.state).toEqual({
      state: 'unauthenticated',
      attempt: 0,
      delayMs: null,
      retryAt: null,
      auth: { reason: 'expired', hadToken: true },
    });
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(60_000);
    expect(FakeSocket.all).toHaveLength(1);
    // A new subscription does not start a doomed attempt either.
    c.subscribe('o', 'other', () => {});
    expect(FakeSocket.all).toHaveLength(1);

    c.setToken('new');
    expect(FakeSocket.all).toHaveLength(2);
    expect(last().token).toBe('new');
    last().open();
    expect(last().sent).toEqual([
      { op: 'subscribe', org: 'o', task: 't', sinceRevision: 5 },
      { op: 'subscribe', org: 'o', task: 'other' },
    ]);
    expect(states.map((s) => s.state)).toEqual(['connecting', 'open', 'unauthenticated', 'connecting', 'open']);
  });

  it('reconnects with a fresh token after a 4401 close when the provider has one', () => {
    const tokens = ['first', 'refreshed'];
    const c = make({ token: () => tokens[0] });
    c.connect();
    last().open();
    tokens.shift();
    last().closeByServer(4401, 'token expired');
    expect(c.state).toMatchObject({ state: 'reconnecting', attempt: 1, delayMs: 100, auth: null });
    vi.advanceTimersByTime(100);
    expect(last().token).toBe('refreshed');
    last().open();
    expect(c.state.state).toBe('open');
  });

  it('stops when the upgrade is refused with 401 (the ws package reports it), and tells "no token" apart', () => {
    const withToken = make({ token: 'bad' });
    withToken.connect();
    last().refuse(401);
    expect(withToken.state).toMatchObject({ state: 'unauthenticated', auth: { reason: 'refused', hadToken: true } });

    const without = make();
    const states = statesOf(without);
    without.connect();
    last().refuse(401);
    expect(without.state).toMatchObject({ state: 'unauthenticated', auth: { reason: 'refused', hadToken: false } });
    // "Retry" tries once more, and lands in the same state when nothing changed.
    without.reconnectNow();
    expect(FakeSocket.all).toHaveLength(3);
    last().refuse(401);
    expect(states.map((s) => s.state)).toEqual(['connecting', 'unauthenticated', 'connecting', 'unauthenticated']);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('treats a silent refusal as an outage without verifyToken: backs off, never unauthenticated', () => {
    const c = make({ token: 'maybe' });
    const states = statesOf(c);
    c.connect();
    for (let i = 0; i < 5; i++) {
      last().refuse();
      vi.advanceTimersByTime(800);
    }
    expect(FakeSocket.all).toHaveLength(6);
    expect(states.some((s) => s.state === 'unauthenticated')).toBe(false);
    expect(c.reconnectDelays).toEqual([100, 200, 400, 800, 800]);
  });

  it('asks verifyToken after refusalLimit silent failures: false stops, true or null keeps backing off', async () => {
    const answers: Array<boolean | null> = [null, true, false];
    const asked: Array<string | null> = [];
    const c = make({
      token: 'tok',
      refusalLimit: 2,
      verifyToken: async (token) => {
        asked.push(token);
        return answers.shift()!;
      },
    });
    c.connect();
    last().refuse();
    expect(asked).toEqual([]);
    expect(c.state.state).toBe('reconnecting');
    await vi.advanceTimersByTimeAsync(100);
    last().refuse();
    await vi.advanceTimersByTimeAsync(0);
    expect(asked).toEqual(['tok']);
    expect(c.state.state).toBe('reconnecting');
    await vi.advanceTimersByTimeAsync(200);
    last().refuse();
    await vi.advanceTimersByTimeAsync(400);
    expect(asked).toHaveLength(2);
    last().refuse();
    await vi.advanceTimersByTimeAsync(0);
    expect(asked).toHaveLength(3);
    expect(c.state).toMatchObject({ state: 'unauthenticated', auth: { reason: 'refused', hadToken: true } });
    expect(FakeSocket.all).toHaveLength(4);
    // A socket that opens proves the token good: the count starts over.
    c.setToken('good');
    last().open();
    last().drop();
    await vi.advanceTimersByTimeAsync(100);
    last().refuse();
    await vi.advanceTimersByTimeAsync(0);
    expect(asked).toHaveLength(3);
  });

  it('checks the next silent failure at once after a manual retry from unauthenticated', async () => {
    let verdict = false;
    const c = make({ token: 'tok', refusalLimit: 3, verifyToken: async () => verdict });
    c.connect();
    last().refuse(401);
    expect(c.state.state).toBe('unauthenticated');
    c.reconnectNow();
    last().refuse();
    await vi.advanceTimersByTimeAsync(0);
    expect(c.state.state).toBe('unauthenticated');
    verdict = true;
    c.reconnectNow();
    last().refuse();
    await vi.advanceTimersByTimeAsync(0);
    expect(c.state.state).toBe('reconnecting');
  });

  it('drops a pending token or token check on dispose and on setToken', async () => {
    let release!: (t: string) => void;
    const c = make({ token: () => new Promise<string>((r) => (release = r)) });
    c.connect();
    c.dispose();
    release('late');
    await vi.advanceTimersByTimeAsync(0);
    expect(FakeSocket.all).toHaveLength(0);

    const d = make({ token: () => new Promise<string>((r) => (release = r)) });
    d.connect();
    d.setToken('now');
    expect(last().token).toBe('now');
    release('stale');
    await vi.advanceTimersByTimeAsync(0);
    expect(FakeSocket.all).toHaveLength(1);
  });

  it('counts a provider that throws as a failed attempt', () => {
    let fail = true;
    const c = make({
      token: () => {
        if (fail) throw new Error('store unavailable');
        return 'ok';
      },
    });
    c.connect();
    expect(FakeSocket.all).toHaveLength(0);
    expect(c.state).toMatchObject({ state: 'reconnecting', attempt: 1 });
    fail = false;
    vi.advanceTimersByTime(100);
    expect(last().token).toBe('ok');
  });
});
