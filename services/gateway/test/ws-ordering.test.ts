import { type Tab, TabState, tabKey } from '@tabmesh/contracts';
import { sleep, uniqueId } from '@tabmesh/testkit';
import { describe, expect, it } from 'vitest';
import { harnessForSuite, putTab, subscribedClient, tabRecord, updateTab, validFrames } from './support/harness.js';
import type { TestWsClient } from './support/ws-client.js';

describe('gateway WebSocket ordering under concurrent writes', () => {
  const h = harnessForSuite({}, { ringSize: 1024, evictAfterMs: 0 });

  it('gives every subscriber, whenever it joins, each later transition once and in order', async () => {
    const org = uniqueId('org');
    const task = uniqueId('task');
    const tabs = await Promise.all([0, 1, 2, 3].map(() => putTab(h.tabs, tabRecord(org, task))));
    const written = new Map<string, number[]>(tabs.map((t) => [t.record.id, [t.revision]]));
    const clients: TestWsClient[] = [];
    const writer = (async () => {
      const current = [...tabs];
      for (let i = 0; i < 120; i++) {
        const k = i % current.length;
        current[k] = await updateTab(h.tabs, current[k]!, { progress: `step ${i}` });
        written.get(current[k]!.record.id)!.push(current[k]!.revision);
        if (i % 10 === 0) await sleep(1);
      }
      return current;
    })();
    // Clients join while the writes go on, the first one loading the task cold.
    for (let i = 0; i < 6; i++) {
      const c = await h.ws();
      c.send({ op: 'subscribe', org, task });
      clients.push(c);
      await sleep(15);
    }
    const final = await writer;
    const finalRevisions = final.map((t) => t.revision);
    await Promise.all(
      clients.map(async (c) => {
        for (;;) {
          const state = replay(validFrames(c));
          if (finalRevisions.every((r, i) => state.get(final[i]!.record.id)?.revision === r)) return;
          await c.waitForCount(c.messages.length + 1, 5000);
        }
      }),
    );

    for (const c of clients) {
      const frames = validFrames(c);
      expect(frames[0]!.type).toBe('snapshot');
      const snap = frames[0]!.type === 'snapshot' ? frames[0]! : null;
      for (const [id, revisions] of written) {
        const from = snap!.tabs.find((t) => t.id === id)!.revision;
        const seen = frames.flatMap((f) => (f.type === 'tab' && f.tab.id === id ? [f.tab.revision] : []));
        // Exactly the revisions written after the snapshot's: none missing, none twice, in order.
        expect(seen).toEqual(revisions.filter((r) => r > from));
      }
    }
    const kv = await h.tabs.getTab(org, task, final[0]!.record.id);
    expect(kv?.revision).toBe(final[0]!.revision);
    expect(tabKey(org, task, final[0]!.record.id)).toContain(org);
  });

  it('loads a task cold, over and over, while it is being written, without losing or repeating a frame', async () => {
    const org = uniqueId('org');
    const task = uniqueId('task');
    const tabs = await Promise.all([0, 1, 2].map(() => putTab(h.tabs, tabRecord(org, task))));
    const written = new Map<string, number[]>(tabs.map((t) => [t.record.id, [t.revision]]));
    let writing = true;
    const writer = (async () => {
      const current = [...tabs];
      for (let i = 0; writing; i++) {
        const k = i % current.length;
        current[k] = await updateTab(h.tabs, current[k]!, { progress: `step ${i}` });
        written.get(current[k]!.record.id)!.push(current[k]!.revision);
      }
    })();
    const views: Array<{ frames: ReturnType<typeof validFrames>; since?: number }> = [];
    for (let round = 0; round < 25; round++) {
      // Cold: the previous round's subscriber left and the cache (evictAfterMs 0) is gone.
      const c = await h.ws();
      c.send({ op: 'subscribe', org, task });
      await c.waitForCount(1);
      const snapshotRevision = (validFrames(c)[0] as { revision: number }).revision;
      // A second client resumes from the snapshot's revision: the ring must cover it completely.
      const r = await h.ws();
      r.send({ op: 'subscribe', org, task, sinceRevision: snapshotRevision });
      // Its catch-up always ends with a task frame; wait for a first frame rather than trust 15 ms
      // on a loaded machine (the upgrade now verifies a token first).
      await r.waitForCount(1);
      await sleep(15);
      c.destroy();
      r.destroy();
      views.push({ frames: validFrames(c) }, { frames: validFrames(r), since: snapshotRevision });
      await sleep(5);
    }
    writing = false;
    await writer;
    for (const view of views) {
      const snap = view.frames[0]!.type === 'snapshot' ? view.frames[0] : null;
      for (const [id, revisions] of written) {
        const from = view.since ?? snap!.tabs.find((t) => t.id === id)!.revision;
        const seen = view.frames.flatMap((f) => (f.type === 'tab' && f.tab.id === id ? [f.tab.revision] : []));
        expect(seen).toEqual(revisions.filter((r) => r > from).slice(0, seen.length));
      }
    }
  });

  it('skips an invalid KV entry and keeps streaming', async () => {
    const { org, task, c } = await subscribedClient(h);
    const before = h.gateway.metrics.kvInvalidEntries.get({ bucket: 'tabs' });
    await h.tabs.kv.put(tabKey(org, task, tabRecord(org, task).id), new TextEncoder().encode('{"v":1,"oops":true}'));
    const good = await putTab(h.tabs, tabRecord(org, task, { state: TabState.PendingProvision }));
    await c.waitForCount(2);
    await sleep(50);
    const frames = validFrames(c);
    expect(frames).toHaveLength(2);
    expect(frames[1]).toMatchObject({ type: 'tab', tab: { id: good.record.id } });
    expect(h.gateway.metrics.kvInvalidEntries.get({ bucket: 'tabs' })).toBe(before + 1);
  });
});

/** A client's view: the snapshot with every later tab frame applied. */
function replay(frames: ReturnType<typeof validFrames>): Map<string, Tab> {
  const state = new Map<string, Tab>();
  for (const f of frames) {
    if (f.type === 'snapshot') for (const t of f.tabs) state.set(t.id, t);
    if (f.type === 'tab' && (state.get(f.tab.id)?.revision ?? -1) < f.tab.revision) state.set(f.tab.id, f.tab);
  }
  return state;
}
