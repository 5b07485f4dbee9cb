import { Subjects, TabState } from '@tabmesh/contracts';
import { setup, type TabmeshMesh } from '@tabmesh/harness';
import { uniqueId } from '@tabmesh/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

describe('tab lifecycle on a real nats-server', () => {
  let mesh: TabmeshMesh;
  beforeAll(async () => {
    mesh = await setup();
  });
  afterAll(() => mesh.stop());

  it('moves a tab on an unprovisioned task through pending_provision → pending_session_create → ready', async () => {
    const org = uniqueId('org');
    const task = uniqueId('task');
    const tab = await mesh.create(org, task, { title: 'first' });
    expect(tab.state).toBe(TabState.PendingProvision);
    const ready = await mesh.waitForState(org, task, tab.id, [TabState.Ready]);
    expect(ready.sessionId).toMatch(/^sim-session-/);
    expect(ready.unread).toBe(true);
    expect(ready.readyAt).not.toBeNull();
    const history: string[] = [];
    for await (const e of await mesh.bus.tabs.history({ key: `${org}.${task}.${tab.id}` })) {
      history.push((e.json() as { state: string }).state);
    }
    const distinct = history.filter((s, i) => s !== history[i - 1]);
    expect(distinct).toEqual(['pending_provision', 'pending_session_create', 'ready']);
    const status = await mesh.tasks.status(org, task);
    expect(status.state).toBe('provisioned');
  });

  it('gives a tab on a provisioned task pending_session_create at once, then ready in the same sandbox', async () => {
    const org = uniqueId('org');
    const task = uniqueId('task');
    const first = await mesh.create(org, task);
    const a = await mesh.waitForState(org, task, first.id, [TabState.Ready]);
    const second = await mesh.create(org, task);
    expect(second.state).toBe(TabState.PendingSessionCreate);
    const b = await mesh.waitForState(org, task, second.id, [TabState.Ready]);
    expect(b.sandboxId).toBe(a.sandboxId);
    expect(mesh.provider.ledger.liveSandboxes(org, task)).toBe(1);
  });

  it('returns the same tab for a repeated clientRequestId, scoped to org and task', async () => {
    const org = uniqueId('org');
    const task = uniqueId('task');
    const one = await mesh.request(Subjects.tabCreate, { v: 1, org, task, clientRequestId: 'abc' });
    const two = await mesh.request(Subjects.tabCreate, { v: 1, org, task, clientRequestId: 'abc' });
    const other = await mesh.request(Subjects.tabCreate, { v: 1, org, task: `${task}-b`, clientRequestId: 'abc' });
    expect(one.ok && two.ok && other.ok).toBe(true);
    if (!one.ok || !two.ok || !other.ok) return;
    expect(one.created).toBe(true);
    expect(two.created).toBe(false);
    expect(two.tab.id).toBe(one.tab.id);
    expect(other.tab.id).not.toBe(one.tab.id);
    expect((await mesh.tabs.listTask(org, task)).length).toBe(1);
  });

  it('closes a tab written a moment before from what is stored, not from an older copy', async () => {
    const org = uniqueId('org');
    const task = uniqueId('task');
    const tabs = await Promise.all(Array.from({ length: 5 }, () => mesh.create(org, task)));
    for (const t of tabs) await mesh.waitForState(org, task, t.id, [TabState.Ready]);
    for (const t of tabs) {
      // Another writer changes the tab, and the close follows at once: the registry's copy is older.
      const key = `${org}.${task}.${t.id}`;
      await mesh.tabs.mutate(key, (cur) => (cur ? { ...cur.value, title: `renamed ${t.id}` } : null));
      const r = await mesh.tabOp(Subjects.tabClose, org, task, t.id);
      expect(r.ok && [r.tab.state, r.tab.title]).toEqual([TabState.Closed, `renamed ${t.id}`]);
      const stored = await mesh.tab(org, task, t.id);
      expect([stored?.state, stored?.title]).toEqual([TabState.Closed, `renamed ${t.id}`]);
    }
  });

  it('closes tabs in any state, twice without change, and marks read once', async () => {
    const org = uniqueId('org');
    const task = uniqueId('task');
    const tab = await mesh.create(org, task);
    const ready = await mesh.waitForState(org, task, tab.id, [TabState.Ready]);
    const read1 = await mesh.tabOp(Subjects.tabRead, org, task, tab.id);
    const read2 = await mesh.tabOp(Subjects.tabRead, org, task, tab.id);
    expect(read1.ok && read1.tab.unread).toBe(false);
    expect(read2.ok && read1.ok && read2.tab.revision).toBe(read1.ok && read1.tab.revision);
    const close1 = await mesh.tabOp(Subjects.tabClose, org, task, tab.id);
    const close2 = await mesh.tabOp(Subjects.tabClose, org, task, tab.id);
    expect(close1.ok && close1.tab.state).toBe(TabState.Closed);
    expect(close2.ok && close1.ok && close2.tab.revision).toBe(close1.ok && close1.tab.revision);
    await expect.poll(() => mesh.provider.ledger.sessions.get(ready.sessionId!)?.live).toBe(false);
  });

  it('refuses retry from a non-error state with invalid_transition, and an unknown tab with not_found', async () => {
    const org = uniqueId('org');
    const task = uniqueId('task');
    const tab = await mesh.create(org, task);
    const retry = await mesh.tabOp(Subjects.tabRetry, org, task, tab.id);
    expect(retry.ok).toBe(false);
    expect(!retry.ok && retry.error.code).toBe('invalid_transition');
    const unknown = await mesh.tabOp(Subjects.tabClose, org, task, '01ARZ3NDEKTSV4RRFFQ69G5FAV');
    expect(!unknown.ok && unknown.error.code).toBe('not_found');
  });
});
