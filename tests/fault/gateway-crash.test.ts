import { TabState, tabKey } from '@tabmesh/contracts';
import { ServiceName, sleep, uniqueId, waitFor } from '@tabmesh/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FaultMesh, startFaultMesh, TaskWatcher } from '../src/index.js';

// SIGKILL of the gateway that WebSocket clients are attached to; they resume on another gateway.
describe('gateway killed with WebSocket clients attached', () => {
  let mesh: FaultMesh;
  const watchers: TaskWatcher[] = [];
  beforeAll(async () => {
    mesh = await startFaultMesh({ env: { TABMESH_SIM_PROVISION_MS: '1500', TABMESH_SIM_SESSION_MS: '300' } });
  });
  const sentinels: TaskWatcher[] = [];
  afterAll(async () => {
    for (const w of [...watchers, ...sentinels]) w.close();
    await mesh?.stop();
  });

  it('clients reconnect to another gateway with sinceRevision and miss no change', async () => {
    await mesh.spawn(ServiceName.TabRegistry);
    await mesh.spawn(ServiceName.Provisioner);
    await mesh.spawn(ServiceName.SessionCreator);
    const doomed = await mesh.spawn(ServiceName.Gateway);
    const survivor = await mesh.spawn(ServiceName.Gateway);
    const first = mesh.gatewayUrls(doomed);
    const second = mesh.gatewayUrls(survivor);
    const org = uniqueId('org');
    const tasks = ['a', 'b', 'c'];

    for (const task of tasks) {
      const w = new TaskWatcher(org, task);
      watchers.push(w);
      await w.connect(first.ws, false);
    }
    // The other gateway already serves these tasks (to other clients), so its history covers the gap.
    sentinels.push(...tasks.map((task) => new TaskWatcher(org, task)));
    for (const s of sentinels) await s.connect(second.ws, false);
    watchers.push(...sentinels);
    await waitFor('snapshots', () => watchers.every((w) => w.snapshots === 1), 15_000);
    watchers.splice(tasks.length);

    // Changes start flowing (pending_provision → progress → pending_session_create → ready) ...
    const ids: Record<string, string[]> = { a: [], b: [], c: [] };
    const create = async (task: string, n: number) => {
      for (let i = 0; i < n; i++) {
        const r = await mesh.httpCreate(second.http, org, task, uniqueId('crid'));
        if (!r.ok) throw new Error(r.error);
        ids[task]!.push(r.tab.id);
      }
    };
    for (const task of tasks) await create(task, 3);
    await waitFor('first frames', () => watchers.every((w) => w.received.size === 3), 15_000);
    const beforeKill = watchers.map((w) => w.lastRevision);

    // ... and the gateway dies in the middle of them; the clients are away for a while.
    await doomed.kill('SIGKILL');
    await Promise.all(watchers.map((w) => w.closed()));
    await sleep(1500);
    const resumedFrom = watchers.map((w) => w.lastRevision);
    for (const w of watchers) await w.connect(second.ws, true);
    for (const task of tasks) await create(task, 1);

    const final = await mesh.waitAllTerminal(org, 60_000);
    expect(final.every((t) => t.state === TabState.Ready)).toBe(true);
    for (const w of watchers) {
      const kvTabs = final.filter((t) => t.task === w.task);
      // The client's view converges on the store: every tab, at its latest revision.
      await waitFor(
        `watcher ${w.task} up to date`,
        async () => {
          for (const t of kvTabs) {
            const kv = (await mesh.tabs.getTab(org, w.task, t.id))!;
            if (w.view.get(t.id)?.revision !== kv.revision) return false;
          }
          return true;
        },
        20_000,
      );
      expect([...w.view.keys()].sort()).toEqual(kvTabs.map((t) => t.id).sort());
      expect(w.outOfOrder).toBe(0);
      expect(w.errors).toEqual([]);
    }

    // The resume replayed every revision written while away, with no fresh snapshot.
    for (const [i, w] of watchers.entries()) {
      expect(resumedFrom[i]).toBeGreaterThanOrEqual(beforeKill[i]!);
      expect(w.snapshots).toBe(1);
      for (const id of ids[w.task]!) {
        const revisions: number[] = [];
        for await (const e of await mesh.bus.tabs.history({ key: tabKey(org, w.task, id) })) revisions.push(e.revision);
        const missed = revisions.filter((r) => r > resumedFrom[i]! && !w.received.get(id)?.includes(r));
        expect(missed).toEqual([]);
      }
    }
  });
});
