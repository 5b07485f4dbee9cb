import { type ServerFrame, type SnapshotFrame, TabState, TaskProvisioning } from '@tabmesh/contracts';
import { sleep, uniqueId, waitFor } from '@tabmesh/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Harness,
  nextFrames,
  putTab,
  putTask,
  startHarness,
  tabRecord,
  taskRecord,
  updateTab,
  validFrames,
} from './support/harness.js';
import type { TestWsClient } from './support/ws-client.js';

const RingSize = 8;

const tabFrames = (frames: ServerFrame[]) =>
  frames.flatMap((f) => (f.type === 'tab' ? [{ id: f.tab.id, state: f.tab.state, revision: f.tab.revision }] : []));

describe('gateway WebSocket API', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness({}, { ringSize: RingSize, maxSubscriptionsPerSocket: 3 });
  });
  afterAll(async () => {
    await h.stop();
  });

  const ids = () => ({ org: uniqueId('org'), task: uniqueId('task') });

  async function subscribed(client: TestWsClient, org: string, task: string, sinceRevision?: number) {
    const before = client.messages.length;
    client.send({ op: 'subscribe', org, task, ...(sinceRevision === undefined ? {} : { sinceRevision }) });
    await client.waitForCount(before + 1);
    return validFrames(client)[before]!;
  }

  it('sends a snapshot, then every transition of the task in order', async () => {
    const { org, task } = ids();
    const existing = await putTab(h.tabs, tabRecord(org, task, { title: 'existing' }));
    await putTask(h.tasks, taskRecord(org, task));
    const c = await h.ws();
    const snapshot = (await subscribed(c, org, task)) as SnapshotFrame;
    expect(snapshot).toMatchObject({ type: 'snapshot', org, task, taskStatus: { state: 'provisioning' } });
    expect(snapshot.tabs.map((t) => t.id)).toEqual([existing.record.id]);
    expect(snapshot.revision).toBeGreaterThanOrEqual(existing.revision);

    let tab = await putTab(h.tabs, tabRecord(org, task, { title: 'new' }));
    const written = [tab.revision];
    tab = await updateTab(h.tabs, tab, { state: TabState.PendingSessionCreate, progress: 'Starting the agent' });
    written.push(tab.revision);
    tab = await updateTab(h.tabs, tab, {
      state: TabState.Ready,
      sessionId: 's-1',
      unread: true,
      readyAt: new Date().toISOString(),
    });
    written.push(tab.revision);

    const frames = await nextFrames(c, 4);
    expect(tabFrames(frames.slice(1))).toEqual([
      { id: tab.record.id, state: 'pending_provision', revision: written[0] },
      { id: tab.record.id, state: 'pending_session_create', revision: written[1] },
      { id: tab.record.id, state: 'ready', revision: written[2] },
    ]);
    const ready = frames[3]!;
    expect(ready.type === 'tab' && ready.tab).toMatchObject({ sessionId: 's-1', unread: true });
  });

  it('sends task frames when the task changes, and closed tabs leave the snapshot', async () => {
    const { org, task } = ids();
    const tab = await putTab(h.tabs, tabRecord(org, task));
    const c = await h.ws();
    const snapshot = (await subscribed(c, org, task)) as SnapshotFrame;
    expect(snapshot.taskStatus).toMatchObject({ state: 'unprovisioned', revision: 0 });

    await putTask(h.tasks, taskRecord(org, task, { state: TaskProvisioning.Provisioned }));
    const closed = await updateTab(h.tabs, tab, { state: TabState.Closed, closedAt: new Date().toISOString() });
    const frames = await nextFrames(c, 3);
    const kinds = frames
      .slice(1)
      .map((f) => f.type)
      .sort();
    expect(kinds).toEqual(['tab', 'task']);
    expect(frames.find((f) => f.type === 'task')).toMatchObject({ task: { state: 'provisioned' } });
    expect(frames.find((f) => f.type === 'tab')).toMatchObject({ tab: { state: 'closed', revision: closed.revision } });

    const other = await h.ws();
    const again = (await subscribed(other, org, task)) as SnapshotFrame;
    expect(again.tabs).toEqual([]);
    expect(again.taskStatus.state).toBe('provisioned');
  });

  it('sends frames only for subscribed tasks, and none after unsubscribe', async () => {
    const a = ids();
    const b = ids();
    const c = await h.ws();
    await subscribed(c, a.org, a.task);
    await subscribed(c, b.org, b.task);
    await putTab(h.tabs, tabRecord(a.org, uniqueId('unrelated')));
    const inA = await putTab(h.tabs, tabRecord(a.org, a.task));
    await c.waitForCount(3);
    expect(tabFrames(validFrames(c).slice(2))).toEqual([
      { id: inA.record.id, state: 'pending_provision', revision: inA.revision },
    ]);

    c.send({ op: 'unsubscribe', org: a.org, task: a.task });
    await sleep(50);
    await updateTab(h.tabs, inA, {
      state: TabState.Error,
      error: { code: 'provision_failed', message: 'x', retryable: true },
    });
    const marker = await putTab(h.tabs, tabRecord(b.org, b.task));
    await c.waitForCount(4);
    await sleep(100);
    expect(tabFrames(validFrames(c).slice(3))).toEqual([
      { id: marker.record.id, state: 'pending_provision', revision: marker.revision },
    ]);
  });

  it('gives two sockets on one task every frame', async () => {
    const { org, task } = ids();
    const [c1, c2] = await Promise.all([h.ws(), h.ws()]);
    await subscribed(c1, org, task);
    await subscribed(c2, org, task);
    let tab = await putTab(h.tabs, tabRecord(org, task));
    tab = await updateTab(h.tabs, tab, { state: TabState.PendingSessionCreate });
    await updateTab(h.tabs, tab, { state: TabState.Ready, sessionId: 's' });
    const [f1, f2] = await Promise.all([nextFrames(c1, 4), nextFrames(c2, 4)]);
    expect(tabFrames(f1)).toHaveLength(3);
    expect(tabFrames(f2)).toEqual(tabFrames(f1));
  });

  it('resumes with sinceRevision: exactly the missed frames in order, then the task', async () => {
    const { org, task } = ids();
    const c1 = await h.ws();
    const snapshot = (await subscribed(c1, org, task)) as SnapshotFrame;
    let tab = await putTab(h.tabs, tabRecord(org, task));
    await nextFrames(c1, 2);
    const lastSeen = tab.revision;
    c1.destroy();

    tab = await updateTab(h.tabs, tab, { state: TabState.PendingSessionCreate });
    const missed = [tab.revision];
    tab = await updateTab(h.tabs, tab, { state: TabState.Ready, sessionId: 's' });
    missed.push(tab.revision);
    await putTask(h.tasks, taskRecord(org, task, { state: TaskProvisioning.Provisioned }));
    // Let the gateway see the changes (no subscriber is left, the cache stays warm).
    await waitFor('watch caught up', async () =>
      (await h.http('/metrics')).text().then((t) => /tabmesh_gateway_kv_entries_total\{bucket="tasks"\} [1-9]/.test(t)),
    );
    await waitFor('the gateway to see the tabs', () => h.gateway.feedRevision() >= tab.revision);

    const c2 = await h.ws();
    c2.send({ op: 'subscribe', org, task, sinceRevision: lastSeen });
    const frames = await nextFrames(c2, 3);
    expect(frames.map((f) => f.type)).toEqual(['tab', 'tab', 'task']);
    expect(tabFrames(frames).map((f) => f.revision)).toEqual(missed);
    expect(frames[2]).toMatchObject({ task: { state: 'provisioned' } });

    // And live changes follow, without repeats.
    const next = await updateTab(h.tabs, tab, { unread: false });
    const live = await nextFrames(c2, 4);
    expect(tabFrames(live.slice(3))).toEqual([{ id: tab.record.id, state: 'ready', revision: next.revision }]);
    expect(snapshot.revision).toBeLessThan(lastSeen);
  });

  it('answers a sinceRevision the history no longer covers with a fresh snapshot', async () => {
    const { org, task } = ids();
    const c1 = await h.ws();
    await subscribed(c1, org, task);
    let tab = await putTab(h.tabs, tabRecord(org, task));
    const since = tab.revision;
    for (let i = 0; i < RingSize + 2; i++) tab = await updateTab(h.tabs, tab, { progress: `step ${i}` });
    await c1.waitForCount(RingSize + 4);

    const c2 = await h.ws();
    const frame = await subscribed(c2, org, task, since);
    expect(frame.type).toBe('snapshot');
    expect((frame as SnapshotFrame).tabs).toEqual([
      expect.objectContaining({ id: tab.record.id, revision: tab.revision, progress: `step ${RingSize + 1}` }),
    ]);
    expect((frame as SnapshotFrame).revision).toBeGreaterThanOrEqual(tab.revision);
  });

  it('answers bad frames with an error frame and keeps the socket usable', async () => {
    const c = await h.ws();
    c.send('this is not json');
    c.send({ op: 'dance', org: 'o', task: 't' });
    c.send({ op: 'subscribe', org: 'bad org', task: 't' });
    c.send({ op: 'subscribe', org: 'o', task: 't', extra: true });
    c.send({ op: 'subscribe', org: 'o', task: 't', sinceRevision: -1 });
    c.sendBinary(new Uint8Array([1, 2, 3]));
    const errors = await nextFrames(c, 6);
    for (const e of errors) expect(e).toMatchObject({ v: 1, type: 'error', code: 'invalid_request' });
    const details = errors.map((e) => (e.type === 'error' ? e.detail : ''));
    expect(details[0]).toMatch(/JSON/);
    expect(details[2]).toMatch(/org/);
    expect(details[3]).toMatch(/extra/);
    expect(details[5]).toMatch(/binary/);

    const { org, task } = ids();
    const snapshot = await subscribed(c, org, task);
    expect(snapshot.type).toBe('snapshot');
  });

  it('limits subscriptions per socket with a clear error', async () => {
    const c = await h.ws();
    for (let i = 0; i < 3; i++) {
      const { org, task } = ids();
      expect((await subscribed(c, org, task)).type).toBe('snapshot');
    }
    const { org, task } = ids();
    const refused = await subscribed(c, org, task);
    expect(refused).toMatchObject({
      type: 'error',
      code: 'limit_reached',
      detail: expect.stringMatching(/too many subscriptions/),
    });
  });

  it('keeps a closed listener closed until reopened, and clients resume on the same port', async () => {
    const { org, task } = ids();
    const c1 = await h.ws();
    await subscribed(c1, org, task);
    const tab = await putTab(h.tabs, tabRecord(org, task));
    await c1.waitForCount(2);
    h.gateway.closeWsListener();
    await c1.waitClosed();
    await expect(h.ws()).rejects.toThrow();
    const moved = await updateTab(h.tabs, tab, { state: TabState.PendingSessionCreate });
    // The change must be in the ring before the resume, or it arrives live after the task frame.
    await waitFor('the gateway to see the change', () => h.gateway.feedRevision() >= moved.revision);
    await h.gateway.reopenWsListener();
    const c2 = await h.ws();
    const frames = await (async () => {
      c2.send({ op: 'subscribe', org, task, sinceRevision: tab.revision });
      return nextFrames(c2, 2);
    })();
    expect(tabFrames(frames)).toEqual([
      { id: tab.record.id, state: 'pending_session_create', revision: moved.revision },
    ]);
    expect(frames[1]!.type).toBe('task');
  });
});
