import { TabState } from '@tabmesh/contracts';
import { setup, type TabmeshMesh } from '@tabmesh/harness';
import { uniqueId } from '@tabmesh/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// Invariant 1: tab.create never waits on the provider.
describe('invariant 1: prompt create', () => {
  let mesh: TabmeshMesh;
  beforeAll(async () => {
    mesh = await setup({ env: { TABMESH_SIM_PROVISION_MS: '30000', TABMESH_ACK_WAIT_MS: '60000' } });
  });
  afterAll(() => mesh.stop());

  it('answers creates in milliseconds while the provider takes 30 s', async () => {
    const org = uniqueId('org');
    const latencies: number[] = [];
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) {
      const started = performance.now();
      const tab = await mesh.create(org, `task-${i % 4}`);
      latencies.push(performance.now() - started);
      ids.push(tab.id);
      expect(tab.state).toBe(TabState.PendingProvision);
    }
    // Bounded far below the provider's latency; no sandbox exists yet when every create has returned.
    expect(Math.max(...latencies)).toBeLessThan(1000);
    for (let i = 0; i < 4; i++) expect(mesh.provider.ledger.liveSandboxes(org, `task-${i}`)).toBe(0);
    const task = await mesh.tasks.status(org, 'task-0');
    expect(task.state).toBe('provisioning');
    expect(new Set(ids).size).toBe(20);
    expect([...ids].sort()).toEqual(ids); // ids sort in creation order
  });
});
