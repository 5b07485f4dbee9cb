import { encode, SessionJobSchema, Subjects, sessionSubject, TabState } from '@tabmesh/contracts';
import { setup, type TabmeshMesh } from '@tabmesh/harness';
import { sleep, uniqueId } from '@tabmesh/testkit';
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

  it('keeps one live session per tab when duplicate jobs (no dedupe id) reach three session-creators', async () => {
    const org = uniqueId('org');
    const task = uniqueId('task');
    const first = await mesh.create(org, task);
    await mesh.waitForState(org, task, first.id, [TabState.Ready]);
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
    const org = uniqueId('org');
    const task = uniqueId('task');
    const warm = await mesh.create(org, task);
    await mesh.waitForState(org, task, warm.id, [TabState.Ready]);
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
});
