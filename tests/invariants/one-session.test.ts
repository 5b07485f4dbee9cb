import { encode, SessionJobSchema, Subjects, sessionSubject, TabState } from '@tabmesh/contracts';
import { setup, type TabmeshMesh } from '@tabmesh/harness';
import { sleep, uniqueId, waitFor } from '@tabmesh/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// Invariants 4 and 5: at most one session per tab; no session outlives a tab closed while pending.
describe('invariants 4 and 5: sessions', () => {
  let mesh: TabmeshMesh;
  beforeAll(async () => {
    mesh = await setup({
      services: { sessionCreator: 3 },
      env: { TABMESH_SIM_PROVISION_MS: '10', TABMESH_SIM_SESSION_MS: '300' },
    });
  });
  afterAll(() => mesh.stop());

  /** A task with a ready tab: the next creates on it go straight to session creation. */
  async function provisionedTask(): Promise<{ org: string; task: string }> {
    const org = uniqueId('org');
    const task = uniqueId('task');
    const warm = await mesh.create(org, task);
    await mesh.waitForState(org, task, warm.id, [TabState.Ready]);
    return { org, task };
  }

  it('keeps one live session per tab when duplicate jobs (no dedupe id) reach three session-creators', async () => {
    const { org, task } = await provisionedTask();
    const tabs = await Promise.all(Array.from({ length: 5 }, () => mesh.create(org, task)));
    for (const t of tabs) {
      const job = encode(SessionJobSchema, { v: 1, op: 'create', org, task, tab: t.id, attempt: 1 }, 'job');
      // Bypass dedupe: the same job under fresh message ids, as redelivery or a buggy publisher would.
      for (let i = 0; i < 4; i++)
        await mesh.bus.js.publish(sessionSubject(org, task, t.id), job, { msgID: `dup-${t.id}-${i}` });
    }
    const ready = await Promise.all(tabs.map((t) => mesh.waitForState(org, task, t.id, [TabState.Ready])));
    await sleep(800); // let any duplicate still running finish and lose its compare-and-set
    for (const t of ready) {
      expect(mesh.provider.ledger.liveSessionsOfTab(t.id)).toBe(1);
      expect(mesh.provider.ledger.sessions.get(t.sessionId!)?.live).toBe(true);
    }
    expect(mesh.provider.ledger.sessionCalls).toBeGreaterThan(6); // duplicates really ran
  });

  it('leaves no live session for tabs closed while their session was being created', async () => {
    const { org, task } = await provisionedTask();
    const tabs = await Promise.all(Array.from({ length: 6 }, () => mesh.create(org, task)));
    await sleep(100); // session creation (300 ms) is under way
    for (const t of tabs) {
      const r = await mesh.tabOp(Subjects.tabClose, org, task, t.id);
      expect(r.ok && r.tab.state).toBe(TabState.Closed);
    }
    await sleep(800);
    for (const t of tabs) {
      expect((await mesh.tab(org, task, t.id))?.state).toBe(TabState.Closed);
      expect(mesh.provider.ledger.liveSessionsOfTab(t.id)).toBe(0);
    }
  });

  it('starts a first delivery from the tab its job carries, and a stale one leaves no live session', async () => {
    const { org, task } = await provisionedTask();
    const t = await mesh.create(org, task);
    const pending = await mesh.tabs.getTab(org, task, t.id);
    expect(pending?.value.state).toBe(TabState.PendingSessionCreate);
    const ready = await mesh.waitForState(org, task, t.id, [TabState.Ready]);
    expect((await mesh.tabOp(Subjects.tabClose, org, task, t.id)).ok).toBe(true);
    await waitFor('the session destroyed', () => mesh.provider.ledger.liveSessionsOfTab(t.id) === 0);
    const calls = mesh.provider.ledger.sessionCalls;
    // The job as it was published while the tab waited, delivered only now: a first delivery trusts it.
    const written = { revision: pending!.revision, tab: pending!.value };
    const job = encode(SessionJobSchema, { v: 1, op: 'create', org, task, tab: t.id, attempt: 1, written }, 'job');
    await mesh.bus.js.publish(sessionSubject(org, task, t.id), job, { msgID: `late-${t.id}` });
    await waitFor('the late job run', () => mesh.provider.ledger.sessionCalls > calls);
    await sleep(800); // its ready write loses the compare-and-set and the session is destroyed
    const after = await mesh.tab(org, task, t.id);
    expect(after?.state).toBe(TabState.Closed);
    expect(after?.sessionId).toBe(ready.sessionId);
    expect(mesh.provider.ledger.liveSessionsOfTab(t.id)).toBe(0);
  });

  it('reads the tab when the one a job carries is another tab', async () => {
    const { org, task } = await provisionedTask();
    const t = await mesh.create(org, task);
    await mesh.waitForState(org, task, t.id, [TabState.Ready]);
    expect((await mesh.tabOp(Subjects.tabClose, org, task, t.id)).ok).toBe(true);
    const other = await mesh.create(org, task);
    const otherPending = await mesh.tabs.getTab(org, task, other.id);
    expect(otherPending?.value.state).toBe(TabState.PendingSessionCreate);
    await mesh.waitForState(org, task, other.id, [TabState.Ready]);
    await sleep(300);
    const calls = mesh.provider.ledger.sessionCalls;
    const written = { revision: otherPending!.revision, tab: otherPending!.value };
    const job = encode(SessionJobSchema, { v: 1, op: 'create', org, task, tab: t.id, attempt: 1, written }, 'job');
    await mesh.bus.js.publish(sessionSubject(org, task, t.id), job, { msgID: `other-${t.id}` });
    await sleep(800);
    // Read as it stands (closed), the job is stale: no session is made for it.
    expect(mesh.provider.ledger.sessionCalls).toBe(calls);
    expect((await mesh.tab(org, task, t.id))?.state).toBe(TabState.Closed);
    expect(mesh.provider.ledger.liveSessionsOfTab(t.id)).toBe(0);
  });
});
