import { TabState } from '@tabmesh/contracts';
import { setup, type TabmeshMesh } from '@tabmesh/harness';
import { uniqueId } from '@tabmesh/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// Invariant 2: any number of concurrent creates on an unprovisioned task provision it once.
describe('invariant 2: one sandbox per task', () => {
  let mesh: TabmeshMesh;
  beforeAll(async () => {
    mesh = await setup({
      services: { tabRegistry: 2, provisioner: 2, sessionCreator: 2 },
      env: { TABMESH_SIM_PROVISION_MS: '300' },
    });
  });
  afterAll(() => mesh.stop());

  it('provisions once for 40 concurrent creates through two registries and two provisioners', async () => {
    const org = uniqueId('org');
    const task = uniqueId('task');
    const before = mesh.provider.ledger.provisionCalls;
    const tabs = await Promise.all(Array.from({ length: 40 }, () => mesh.create(org, task)));
    const ready = await Promise.all(tabs.map((t) => mesh.waitForState(org, task, t.id, [TabState.Ready])));
    expect(mesh.provider.ledger.provisionCalls - before).toBe(1);
    expect(mesh.provider.ledger.liveSandboxes(org, task)).toBe(1);
    expect(new Set(ready.map((t) => t.sandboxId)).size).toBe(1);
    const status = await mesh.tasks.status(org, task);
    expect(status.generation).toBe(1);
  });
});
