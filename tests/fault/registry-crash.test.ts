import { TabState } from '@tabmesh/contracts';
import { type CreateOutcome, ServiceName, sleep, uniqueId } from '@tabmesh/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FaultMesh, startFaultMesh } from '../src/index.js';

// SIGKILL of one tab-registry (of two) in the middle of a burst of creates.
describe('tab-registry killed during a burst of creates', () => {
  let mesh: FaultMesh;
  beforeAll(async () => {
    mesh = await startFaultMesh();
  });
  afterAll(() => mesh?.stop());

  it('keeps every acknowledged create, and a retry with the same clientRequestId never duplicates', async () => {
    const doomed = await mesh.spawn(ServiceName.TabRegistry);
    await mesh.spawn(ServiceName.TabRegistry);
    await mesh.spawn(ServiceName.Provisioner);
    await mesh.spawn(ServiceName.SessionCreator);
    const org = uniqueId('org');
    const total = 150;
    const concurrency = 30;
    const results: { crid: string; task: string; first: CreateOutcome; final: CreateOutcome }[] = [];

    let next = 0;
    let issued = 0;
    let killed: Promise<unknown> | null = null;
    const caller = async () => {
      while (next < total) {
        const i = next++;
        issued++;
        // Stop one registry while a full pool of requests is in flight, and kill it a moment later:
        // what reached it meanwhile is in flight for certain, however fast the rest is answered.
        // (Killed at once, a loaded machine could have it answer everything before the signal.)
        if (issued === 45) {
          doomed.pause();
          killed = sleep(300).then(() => doomed.kill('SIGKILL'));
        }
        const crid = `burst-${i}`;
        const task = `t${i % 10}`;
        const r = await mesh.createWithRetry(org, task, crid, { timeoutMs: 2000, attempts: 30 });
        results.push({ crid, task, first: r.first, final: r.final });
      }
    };
    await Promise.all(Array.from({ length: concurrency }, caller));
    await killed;
    expect(doomed.running).toBe(false);
    // A new registry joins the queue group, as an orchestrator would restart it.
    await mesh.spawn(ServiceName.TabRegistry);

    expect(results).toHaveLength(total);
    const lostReplies = results.filter((r) => !r.first.ok);
    expect(lostReplies.length).toBeGreaterThan(0); // the kill really hit requests in flight
    expect(results.every((r) => r.final.ok)).toBe(true);

    const tabs = await mesh.waitAllTerminal(org, 90_000);
    // Exactly one tab per clientRequestId, and it is the one every ok reply named.
    const byCrid = new Map<string, string[]>();
    for (const t of tabs) byCrid.set(t.clientRequestId!, [...(byCrid.get(t.clientRequestId!) ?? []), t.id]);
    expect(tabs).toHaveLength(total);
    for (const r of results) {
      expect(byCrid.get(r.crid)).toHaveLength(1);
      const id = byCrid.get(r.crid)![0];
      if (r.first.ok) expect(r.first.tab.id).toBe(id);
      if (r.final.ok) expect(r.final.tab.id).toBe(id);
    }
    expect(tabs.every((t) => t.state === TabState.Ready)).toBe(true);
    const live = await mesh.live();
    for (let i = 0; i < 10; i++) expect(live.sandboxesByTask.get(`${org}.t${i}`)).toBe(1);
    for (const t of tabs) expect(live.sessionsByTab.get(t.id)).toBe(1);
  });
});
