import { TabState, tabKey } from '@tabmesh/contracts';
import { setup, type TabmeshMesh } from '@tabmesh/harness';
import { nowIso } from '@tabmesh/runtime';
import { sleep, uniqueId } from '@tabmesh/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// Invariant 3: every tab reaches ready, error or closed.
describe('invariant 3: nothing stuck', () => {
  let mesh: TabmeshMesh;
  beforeAll(async () => {
    mesh = await setup({
      services: { tabRegistry: 2 },
      env: { TABMESH_SIM_PROVISION_MS: '20', TABMESH_SIM_SESSION_MS: '5' },
    });
  });
  afterAll(() => mesh.stop());

  it('moves on every tab when creates race provisioning completion (60 rounds)', async () => {
    const org = uniqueId('org');
    const rounds = Array.from({ length: 60 }, (_, i) => i);
    const created = await Promise.all(
      rounds.map(async (i) => {
        const task = `race-${i}`;
        const first = await mesh.create(org, task);
        // Land the second create around the moment provisioning completes (sim takes 20 ms).
        await sleep(10 + (i % 20));
        const second = await mesh.create(org, task);
        return [first, second].map((t) => ({ task, id: t.id }));
      }),
    );
    const all = created.flat();
    const final = await Promise.all(all.map((t) => mesh.waitForState(org, t.task, t.id, [TabState.Ready], 20_000)));
    expect(final.every((t) => t.state === TabState.Ready)).toBe(true);
    for (const i of rounds) expect(mesh.provider.ledger.liveSandboxes(org, `race-${i}`)).toBe(1);
  });

  it('re-drives a pending tab whose job was lost (a writer died between the KV write and the publish)', async () => {
    const org = uniqueId('org');
    const task = uniqueId('task');
    const tab = await mesh.create(org, task);
    await mesh.waitForState(org, task, tab.id, [TabState.Ready]);
    // A tab written as pending_session_create with no job behind it, as a crash would leave it.
    const orphan = {
      ...(await mesh.tab(org, task, tab.id))!,
      id: '01JZZZZZZZZZZZZZZZZZZZZZZZ',
      state: TabState.PendingSessionCreate,
      sessionId: null,
      readyAt: null,
      attempt: 3,
      updatedAt: new Date(Date.now() - 60_000).toISOString(),
      createdAt: nowIso(),
    };
    await mesh.tabs.create(tabKey(org, task, orphan.id), orphan);
    const done = await mesh.waitForState(org, task, orphan.id, [TabState.Ready], 15_000);
    expect(done.sessionId).not.toBeNull();
  });
});
