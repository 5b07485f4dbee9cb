import { Streams, TabState } from '@tabmesh/contracts';
import { type CreateOutcome, ServiceName, sleep, uniqueId } from '@tabmesh/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FaultMesh, startFaultMesh } from '../src/index.js';

// A 3-node cluster on loopback, streams and buckets at R3; one node is SIGKILLed under load.
describe('3-node NATS cluster losing a node under load', () => {
  let mesh: FaultMesh;
  beforeAll(async () => {
    mesh = await startFaultMesh({ nats: 'cluster', env: { TABMESH_REPLICAS: '3' } });
  });
  afterAll(() => mesh?.stop());

  it('loses no acknowledged create and the flow goes on with two nodes', async () => {
    const info = await mesh.bus.jsm.streams.info(Streams.provision.name);
    expect(info.config.num_replicas).toBe(3);
    expect((await mesh.bus.tabs.status()).replicas).toBe(3);

    await mesh.spawn(ServiceName.TabRegistry);
    await mesh.spawn(ServiceName.TabRegistry);
    await mesh.spawn(ServiceName.Provisioner);
    await mesh.spawn(ServiceName.SessionCreator);

    const org = uniqueId('org');
    const outcomes = new Map<string, { task: string; index: number; first: CreateOutcome; final: CreateOutcome }>();
    const calls: Promise<void>[] = [];
    let killedAt = -1;
    for (let n = 0; n < 160; n++) {
      const crid = `c-${n}`;
      const task = `t${n % 8}`;
      calls.push(
        mesh.createWithRetry(org, task, crid, { timeoutMs: 3000, attempts: 40, pauseMs: 500 }).then((r) => {
          outcomes.set(crid, { task, index: n, first: r.first, final: r.final });
        }),
      );
      if (n === 50) {
        killedAt = n;
        await mesh.cluster!.kill(0, 'SIGKILL');
      }
      await sleep(50);
    }
    await Promise.all(calls);

    const all = [...outcomes.values()];
    expect(all).toHaveLength(160);
    expect(all.filter((o) => !o.final.ok).map((o) => o.final)).toEqual([]);
    // Some were refused while the cluster elected new leaders; their retries were acknowledged.
    expect(all.filter((o) => o.index > killedAt).every((o) => o.final.ok)).toBe(true);

    const tabs = await mesh.waitAllTerminal(org, 120_000);
    expect(tabs).toHaveLength(160);
    const byCrid = new Map(tabs.map((t) => [t.clientRequestId, t]));
    for (const [crid, o] of outcomes) {
      const tab = byCrid.get(crid);
      expect(tab).toBeDefined();
      if (o.first.ok) expect(o.first.tab.id).toBe(tab!.id);
    }
    expect(tabs.filter((t) => t.state !== TabState.Ready)).toEqual([]);
    const live = await mesh.live();
    for (let t = 0; t < 8; t++) expect(live.sandboxesByTask.get(`${org}.t${t}`)).toBe(1);
    for (const t of tabs) expect(live.sessionsByTab.get(t.id)).toBe(1);
    for (const p of mesh.processes)
      expect(p.running, `${p.label} exited: ${JSON.stringify(p.logs.slice(-3))}`).toBe(true);

    // With the node still down, a new task is provisioned and its tabs get sessions.
    const fresh: string[] = [];
    for (let n = 0; n < 5; n++) {
      const r = await mesh.createWithRetry(org, 'after-kill', `after-${n}`, { timeoutMs: 3000 });
      if (!r.final.ok) throw new Error(r.final.error);
      fresh.push(r.final.tab.id);
    }
    for (const id of fresh) await mesh.waitForState(org, 'after-kill', id, [TabState.Ready], 60_000);
    expect((await mesh.live()).sandboxesByTask.get(`${org}.after-kill`)).toBe(1);
  });
});
