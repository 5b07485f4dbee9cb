import { Subjects, TabState } from '@tabmesh/contracts';
import { setup, type TabmeshMesh } from '@tabmesh/harness';
import { uniqueId } from '@tabmesh/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

describe('failed provisioning and retry', () => {
  let mesh: TabmeshMesh;
  beforeAll(async () => {
    mesh = await setup({
      env: { TABMESH_SIM_PROVISION_MS: '10', TABMESH_SIM_FAIL_RATE: '1', TABMESH_MAX_DELIVER: '3' },
    });
  });
  afterAll(() => mesh.stop());

  it('puts the task and all its waiting tabs in error after the last delivery, then retry provisions a new generation', async () => {
    mesh.provider.failRate = 1;
    const org = uniqueId('org');
    const task = uniqueId('task');
    const tabs = await Promise.all([mesh.create(org, task), mesh.create(org, task)]);
    const failed = await Promise.all(tabs.map((t) => mesh.waitForState(org, task, t.id, [TabState.Error])));
    for (const t of failed) {
      expect(t.error).toMatchObject({ code: 'provision_failed', retryable: true });
      expect(t.error!.message).toMatch(/simulated/);
    }
    const status = await mesh.tasks.status(org, task);
    expect(status).toMatchObject({ state: 'error', generation: 1 });
    const callsForThree = mesh.provider.ledger.provisionCalls;
    expect(callsForThree).toBeGreaterThanOrEqual(3);

    mesh.provider.failRate = 0;
    const retried = await mesh.tabOp(Subjects.tabRetry, org, task, tabs[0]!.id);
    expect(retried.ok && retried.tab.state).toBe(TabState.PendingProvision);
    const ready = await mesh.waitForState(org, task, tabs[0]!.id, [TabState.Ready]);
    expect(ready.attempt).toBe(2);
    expect((await mesh.tasks.status(org, task)).generation).toBe(2);
    // The other tab stays in error until it is retried itself.
    expect((await mesh.tab(org, task, tabs[1]!.id))!.state).toBe(TabState.Error);
    const second = await mesh.tabOp(Subjects.tabRetry, org, task, tabs[1]!.id);
    expect(second.ok && second.tab.state).toBe(TabState.PendingSessionCreate);
    await mesh.waitForState(org, task, tabs[1]!.id, [TabState.Ready]);
  });

  it('puts a tab in error when session creation keeps failing, and retry creates the session', async () => {
    mesh.provider.failRate = 0;
    const org = uniqueId('org');
    const task = uniqueId('task');
    const warm = await mesh.create(org, task);
    await mesh.waitForState(org, task, warm.id, [TabState.Ready]);
    mesh.provider.failRate = 1;
    const tab = await mesh.create(org, task);
    const failed = await mesh.waitForState(org, task, tab.id, [TabState.Error]);
    expect(failed.error).toMatchObject({ code: 'session_failed', retryable: true });
    mesh.provider.failRate = 0;
    await mesh.tabOp(Subjects.tabRetry, org, task, tab.id);
    const ready = await mesh.waitForState(org, task, tab.id, [TabState.Ready]);
    expect(ready.attempt).toBe(2);
    expect(mesh.provider.ledger.liveSessionsOfTab(tab.id)).toBe(1);
  });
});
