import { type TabRecord, TabState, tabKey } from '@tabmesh/contracts';
import { type CreateOutcome, ServiceName, type ServiceProcess, sleep, uniqueId, waitFor } from '@tabmesh/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FaultMesh, startFaultMesh } from '../src/index.js';

// SIGKILL of nats-server, then a restart on the same store, with the whole mesh running as processes.
describe('nats-server killed and restarted with the same store', () => {
  let mesh: FaultMesh;
  beforeAll(async () => {
    mesh = await startFaultMesh();
  });
  afterAll(() => mesh?.stop());

  it('services reconnect by themselves, readiness goes false then true, no acknowledged tab is lost and the flow goes on', async () => {
    const services: ServiceProcess[] = [
      await mesh.spawn(ServiceName.TabRegistry),
      await mesh.spawn(ServiceName.Provisioner),
      await mesh.spawn(ServiceName.SessionCreator),
    ];
    const gw = await mesh.spawn(ServiceName.Gateway);
    services.push(gw);
    const { http } = mesh.gatewayUrls(gw);
    const readyz = async () => (await fetch(`${http}/readyz`).catch(() => null))?.status ?? 0;
    expect(await readyz()).toBe(200);

    const org = uniqueId('org');
    const task = (i: number) => `t${i % 4}`;
    const outcomes = new Map<string, { task: string; first: CreateOutcome }>();
    let i = 0;
    let loading = true;
    const load = (async () => {
      while (loading) {
        const n = i++;
        const crid = `load-${n}`;
        void mesh.httpCreate(http, org, task(n), crid).then((first) => outcomes.set(crid, { task: task(n), first }));
        await sleep(50);
      }
    })();

    await sleep(1500);
    await mesh.server!.kill('SIGKILL');
    await waitFor('readyz 503 while nats-server is down', async () => (await readyz()) === 503, 15_000, 100);
    await sleep(2000);
    await mesh.server!.restart();
    await waitFor('readyz 200 after the restart', async () => (await readyz()) === 200, 60_000, 100);
    await sleep(2000);
    loading = false;
    await load;
    await waitFor('every create answered', () => outcomes.size === i, 30_000);

    const acknowledged = [...outcomes.values()].filter((o) => o.first.ok);
    const refused = [...outcomes.entries()].filter(([, o]) => !o.first.ok);
    expect(acknowledged.length).toBeGreaterThan(10);
    expect(refused.length).toBeGreaterThan(0); // creates during the outage were refused, not hung
    // Callers retry what was refused with the same clientRequestId.
    for (const [crid, o] of refused) {
      const again = await waitFor(
        `retry of ${crid}`,
        async () => {
          const r = await mesh.httpCreate(http, org, o.task, crid);
          return r.ok ? r : undefined;
        },
        30_000,
        250,
      );
      outcomes.set(crid, { task: o.task, first: again });
    }

    // Every process is the one started before the outage, and it logged the disconnect and reconnect.
    for (const p of services) {
      expect(p.running).toBe(true);
      expect(p.lines('nats disconnect').length).toBeGreaterThan(0);
      expect(p.lines('nats reconnect').length).toBeGreaterThan(0);
    }

    const tabs = await mesh.waitAllTerminal(org, 90_000);
    const byId = new Map(tabs.map((t) => [t.id, t]));
    for (const o of acknowledged) expect(byId.get((o.first as { tab: TabRecord }).tab.id)).toBeDefined();
    expect(tabs).toHaveLength(outcomes.size); // one tab per clientRequestId
    expect(new Set(tabs.map((t) => t.clientRequestId)).size).toBe(outcomes.size);
    expect(tabs.every((t) => t.state === TabState.Ready)).toBe(true);
    const live = await mesh.live();
    for (let t = 0; t < 4; t++) expect(live.sandboxesByTask.get(`${org}.t${t}`)).toBe(1);
    for (const t of tabs) expect(live.sessionsByTab.get(t.id)).toBe(1);

    // tab-registry's KV watch resumed: a pending tab written after the restart, with no job behind
    // it, is seen and re-driven by the sweep.
    const model = tabs[0]!;
    const orphan: TabRecord = {
      ...model,
      id: '01JZZZZZZZZZZZZZZZZZZZZZZZ',
      state: TabState.PendingSessionCreate,
      sessionId: null,
      readyAt: null,
      clientRequestId: null,
      updatedAt: new Date(Date.now() - 60_000).toISOString(),
    };
    await mesh.tabs.create(tabKey(org, model.task, orphan.id), orphan);
    const driven = await mesh.waitForState(org, model.task, orphan.id, [TabState.Ready], 30_000);
    expect(driven.sessionId).not.toBeNull();
  });
});
