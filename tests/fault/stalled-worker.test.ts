import { Streams, type TabRecord, TabState, tabKey, taskKey } from '@tabmesh/contracts';
import { ServiceName, type ServiceProcess, sleep, uniqueId, waitFor } from '@tabmesh/testkit';
import { describe, expect, it } from 'vitest';
import { type FaultMesh, faultMeshPerTest } from '../src/index.js';

/** States of a key over its KV history, oldest first. */
async function history(mesh: FaultMesh, bucket: 'tabs' | 'tasks', key: string): Promise<string[]> {
  const out: string[] = [];
  const kv = bucket === 'tabs' ? mesh.bus.tabs : mesh.bus.tasks;
  for await (const e of await kv.history({ key })) {
    if (e.operation === 'PUT') out.push((e.json() as { state: string }).state);
  }
  return out;
}

// A worker stalled (SIGSTOP) past its ack wait loses its job to another worker; when it runs again
// (SIGCONT) its late result must lose the compare-and-set cleanly.
describe('a worker paused past its ack wait', () => {
  const fixture = faultMeshPerTest();
  let mesh: FaultMesh;

  it('session-creator: the job is redelivered to another worker; the late result leaves one live session and the ready tab untouched', async () => {
    // 'tab ready' is a debug line: the lines read below tell which worker made the session.
    mesh = await fixture.start({ TABMESH_ACK_WAIT_MS: '2000', TABMESH_SIM_SESSION_MS: '3000', LOG_LEVEL: 'debug' });
    await mesh.spawn(ServiceName.TabRegistry);
    await mesh.spawn(ServiceName.Provisioner);
    const stalled = await mesh.spawn(ServiceName.SessionCreator);
    const org = uniqueId('org');
    const task = uniqueId('task');

    const created = await mesh.tryCreate(org, task);
    if (!created.ok) throw new Error(created.error);
    const id = created.tab.id;
    // The only session-creator holds the job; pause it in the middle of creating the session.
    await waitFor(
      'the session job handed out',
      async () => (await mesh.consumer(Streams.sessions.name, Streams.sessions.consumer)).ackPending === 1,
      30_000,
    );
    await sleep(500);
    stalled.pause();
    const other = await mesh.spawn(ServiceName.SessionCreator);

    const ready = await mesh.waitForState(org, task, id, [TabState.Ready], 60_000);
    const readyRev = (await mesh.tabs.getTab(org, task, id))!.revision;
    // The copy that won was the redelivery, in the other process.
    expect(other.lines('tab ready').find((l) => l.tab === id)?.delivery).toBe(2);

    stalled.resume();
    // The paused worker finishes its copy of the job: it sees the tab already has its session.
    const late = await stalled.waitForLog(
      'late session outcome',
      (l) => l.tab === id && l.msg === 'session already recorded by another delivery',
      30_000,
    );
    expect(stalled.lines('tab ready').filter((l) => l.tab === id)).toHaveLength(0);
    expect(other.lines('tab ready').filter((l) => l.tab === id)).toHaveLength(1);
    expect(late.delivery).toBe(1);

    const after = (await mesh.tabs.getTab(org, task, id))!;
    expect(after.revision).toBe(readyRev); // no overwrite
    expect(after.value.sessionId).toBe(ready.sessionId);
    const sessions = (await mesh.ledger.snapshot()).sessions.filter((s) => s.tab === id && s.live);
    expect(sessions.map((s) => s.id)).toEqual([ready.sessionId]);
    expect((await history(mesh, 'tabs', tabKey(org, task, id))).filter((s) => s === TabState.Ready)).toHaveLength(1);
  });

  it('provisioner: the job is redelivered; the late result leaves one live sandbox and the provisioned task untouched', async () => {
    mesh = await fixture.start({ TABMESH_ACK_WAIT_MS: '2000', TABMESH_SIM_PROVISION_MS: '3000' });
    await mesh.spawn(ServiceName.TabRegistry);
    await mesh.spawn(ServiceName.SessionCreator);
    const stalled: ServiceProcess = await mesh.spawn(ServiceName.Provisioner);
    const org = uniqueId('org');
    const task = uniqueId('task');

    const tabs: TabRecord[] = [];
    for (let i = 0; i < 3; i++) {
      const c = await mesh.tryCreate(org, task);
      if (!c.ok) throw new Error(c.error);
      tabs.push(c.tab);
    }
    await waitFor(
      'the provision job handed out',
      async () => (await mesh.consumer(Streams.provision.name, Streams.provision.consumer)).ackPending === 1,
      30_000,
    );
    await sleep(500);
    stalled.pause();
    const other = await mesh.spawn(ServiceName.Provisioner);

    for (const t of tabs) await mesh.waitForState(org, task, t.id, [TabState.Ready], 60_000);
    const taskRev = (await mesh.tasks.getTask(org, task))!.revision;
    expect(other.lines('task provisioned').filter((l) => l.task === task)).toHaveLength(1);

    stalled.resume();
    const late = await stalled.waitForLog(
      'late provision outcome',
      (l) => l.task === task && l.msg === 'task already provisioned by another delivery',
      30_000,
    );
    expect(late.delivery).toBe(1);
    // Give the late worker time to finish whatever follows (the tab scan) before checking.
    await sleep(1000);

    const provisioned = (await mesh.tasks.getTask(org, task))!;
    expect(provisioned.revision).toBe(taskRev);
    expect((await mesh.live()).sandboxesByTask.get(`${org}.${task}`)).toBe(1);
    expect((await history(mesh, 'tasks', taskKey(org, task))).filter((s) => s === 'provisioned')).toHaveLength(1);
    for (const t of tabs) {
      const now = (await mesh.tab(org, task, t.id))!;
      expect(now.state).toBe(TabState.Ready);
      expect(now.sandboxId).toBe(provisioned.value.sandbox!.id);
    }
  });
});
