import { Streams, Subjects, TabState, tabKey } from '@tabmesh/contracts';
import { simSessionId } from '@tabmesh/providers';
import { ServiceName, uniqueId, waitFor } from '@tabmesh/testkit';
import { describe, expect, it } from 'vitest';
import { type FaultMesh, faultMeshPerTest } from '../src/index.js';

// Invariant 5 across crashes: a crash between two writes must not leave a live session behind a closed tab.
describe('no leaked session when a process dies between two steps', () => {
  const fixture = faultMeshPerTest();
  let mesh: FaultMesh;

  it('session-creator died after the session was made, before it was recorded; the tab is closed; the redelivery destroys it', async () => {
    mesh = await fixture.start({ TABMESH_SIM_SESSION_MS: '4000' });
    await mesh.spawn(ServiceName.TabRegistry);
    await mesh.spawn(ServiceName.Provisioner);
    const doomed = await mesh.spawn(ServiceName.SessionCreator);
    const org = uniqueId('org');
    const c = await mesh.tryCreate(org, 'main');
    if (!c.ok) throw new Error(c.error);
    const id = c.tab.id;
    const pending = await mesh.waitForState(org, 'main', id, [TabState.PendingSessionCreate], 30_000);
    await waitFor(
      'the session job in flight',
      async () => (await mesh.consumer(Streams.sessions.name, Streams.sessions.consumer)).ackPending === 1,
      30_000,
    );
    // What a crash right after the provider call leaves: a live session the tab does not know of.
    await mesh.ledger.putSession(pending.sandboxId!, simSessionId(id, 1), { tab: id, attempt: 1 });
    await doomed.kill('SIGKILL');

    const closed = await mesh.tabOp(Subjects.tabClose, org, 'main', id);
    expect(closed.ok && closed.tab.state).toBe(TabState.Closed);
    const next = await mesh.spawn(ServiceName.SessionCreator);
    await next.waitForLog(
      'cleanup of the orphan',
      (l) => l.tab === id && l.msg === 'tab closed before its session was recorded; session destroyed',
      30_000,
    );
    expect(await mesh.ledger.liveSessionsOfTab(id)).toBe(0);
    expect((await mesh.tab(org, 'main', id))!.state).toBe(TabState.Closed);
  });

  it('tab-registry died between closing a ready tab and enqueueing the destroy; the retried close destroys the session', async () => {
    mesh = await fixture.start();
    await mesh.spawn(ServiceName.TabRegistry);
    await mesh.spawn(ServiceName.Provisioner);
    await mesh.spawn(ServiceName.SessionCreator);
    const org = uniqueId('org');
    const c = await mesh.tryCreate(org, 'main');
    if (!c.ok) throw new Error(c.error);
    const ready = await mesh.waitForState(org, 'main', c.tab.id, [TabState.Ready], 30_000);
    expect(await mesh.ledger.liveSessionsOfTab(ready.id)).toBe(1);
    // What the crash leaves: the tab written closed, no destroy job published.
    const cur = (await mesh.tabs.getTab(org, 'main', ready.id))!;
    const now = new Date().toISOString();
    await mesh.tabs.update(
      tabKey(org, 'main', ready.id),
      { ...cur.value, state: TabState.Closed, closedAt: now, updatedAt: now },
      cur.revision,
    );

    const again = await mesh.tabOp(Subjects.tabClose, org, 'main', ready.id);
    expect(again.ok && again.tab.state).toBe(TabState.Closed);
    await waitFor('the session destroyed', async () => (await mesh.ledger.liveSessionsOfTab(ready.id)) === 0, 30_000);
  });
});
