import { type SnapshotFrame, TabState } from '@tabmesh/contracts';
import { uniqueId, waitFor } from '@tabmesh/testkit';
import { describe, expect, it } from 'vitest';
import {
  harnessForSuite,
  nextFrames,
  putTab,
  subscribedClient,
  tabRecord,
  updateTab,
  validFrames,
} from './support/harness.js';

describe('gateway WebSocket slow clients and cache eviction', () => {
  const h = harnessForSuite({ GATEWAY_WS_MAX_BACKPRESSURE: '1024' }, { evictAfterMs: 200, ringSize: 4096 });

  it('drops a client that stops reading, counts the drop, and lets it resume', async () => {
    const org = uniqueId('org');
    const task = uniqueId('task');
    const slow = await h.ws();
    const healthy = await h.ws();
    for (const c of [slow, healthy]) c.send({ op: 'subscribe', org, task });
    await Promise.all([slow.waitForCount(1), healthy.waitForCount(1)]);
    let tab = await putTab(h.tabs, tabRecord(org, task));
    await slow.waitForCount(2);
    const lastSeen = tab.revision;
    slow.pause();

    // Large frames fill the kernel buffers quickly; then uWS's own buffer passes the limit.
    const big = 'p'.repeat(64 * 1024);
    let writes = 0;
    while (h.gateway.metrics.wsBackpressureDrops.get() === 0 && writes < 400) {
      tab = await updateTab(h.tabs, tab, { progress: `${writes} ${big}` });
      writes++;
    }
    expect(h.gateway.metrics.wsBackpressureDrops.get()).toBe(1);
    slow.resume();
    await slow.waitClosed();

    // The healthy client got everything, in order.
    await healthy.waitForCount(2 + writes);
    const revisions = validFrames(healthy)
      .slice(1)
      .map((f) => (f.type === 'tab' ? f.tab.revision : -1));
    expect(revisions).toEqual([...revisions].sort((a, b) => a - b));
    expect(revisions.at(-1)).toBe(tab.revision);

    // The dropped client resumes. What it missed is far more than its buffer allows, so sending it
    // would only get it dropped again: it gets a snapshot of the current state instead.
    const back = await h.ws();
    back.send({ op: 'subscribe', org, task, sinceRevision: lastSeen });
    const [snapshot] = await nextFrames(back, 1);
    expect(snapshot).toMatchObject({ type: 'snapshot', tabs: [{ id: tab.record.id, revision: tab.revision }] });
    // Resuming from a recent revision gets the few missed frames, then the task, then live frames.
    const again = await h.ws();
    const small = await updateTab(h.tabs, tab, { progress: 'small' });
    await healthy.waitForCount(3 + writes);
    again.send({ op: 'subscribe', org, task, sinceRevision: tab.revision });
    const resumed = await nextFrames(again, 2);
    expect(resumed.map((f) => f.type)).toEqual(['tab', 'task']);
    expect(resumed[0]).toMatchObject({ tab: { revision: small.revision, progress: 'small' } });
    const metrics = await (await h.http('/metrics')).text();
    expect(metrics).toMatch(/tabmesh_gateway_ws_backpressure_drops_total 1\b/);
  });

  it('evicts a task cache after its last subscriber leaves, and reloads it on the next subscribe', async () => {
    const { org, task, c } = await subscribedClient(h);
    const tab = await putTab(h.tabs, tabRecord(org, task));
    await c.waitForCount(2);
    const before = h.gateway.cachedTasks();
    c.send({ op: 'unsubscribe', org, task });
    await waitFor('cache evicted', () => h.gateway.cachedTasks() < before);

    const moved = await updateTab(h.tabs, tab, { state: TabState.PendingSessionCreate });
    // Resuming from before the reload point cannot be served from history: a snapshot comes.
    c.send({ op: 'subscribe', org, task, sinceRevision: tab.revision });
    const [, , snapshot] = await nextFrames(c, 3);
    expect(snapshot!.type).toBe('snapshot');
    expect((snapshot as SnapshotFrame).tabs).toEqual([
      expect.objectContaining({ id: tab.record.id, revision: moved.revision }),
    ]);
  });
});
