import { Streams, type TabRecord, TabState } from '@tabmesh/contracts';
import { ServiceName, uniqueId, waitFor } from '@tabmesh/testkit';
import { describe, expect, it } from 'vitest';
import { type FaultMesh, faultMeshPerTest } from '../src/index.js';

async function createMany(mesh: FaultMesh, org: string, tasks: string[], perTask: number): Promise<TabRecord[]> {
  const out: TabRecord[] = [];
  for (const task of tasks) {
    for (let i = 0; i < perTask; i++) {
      const c = await mesh.tryCreate(org, task);
      if (!c.ok) throw new Error(c.error);
      out.push(c.tab);
    }
  }
  return out;
}

/** Every tab terminal, exactly one live sandbox per task, and each ready tab's one live session is its own. */
async function expectSettled(mesh: FaultMesh, org: string, tasks: string[], created: TabRecord[]): Promise<void> {
  const final = await mesh.waitAllTerminal(org, 90_000);
  expect(final.map((t) => t.id).sort()).toEqual(created.map((t) => t.id).sort());
  expect(final.every((t) => t.state === TabState.Ready)).toBe(true);
  const live = await mesh.live();
  for (const task of tasks) expect(live.sandboxesByTask.get(`${org}.${task}`)).toBe(1);
  const { sessions } = await mesh.ledger.snapshot();
  for (const t of final) {
    const mine = sessions.filter((s) => s.tab === t.id && s.live);
    expect(mine.map((s) => s.id)).toEqual([t.sessionId]);
  }
}

// SIGKILL of a worker in the middle of its step, then a new process: nothing stuck, nothing doubled.
describe('a worker killed mid-step', () => {
  const fixture = faultMeshPerTest();
  let mesh: FaultMesh;

  it('provisioner SIGKILLed mid-provisioning: a new process finishes every tab with one sandbox per task', async () => {
    mesh = await fixture.start({ TABMESH_SIM_PROVISION_MS: '4000' });
    await mesh.spawn(ServiceName.TabRegistry);
    await mesh.spawn(ServiceName.SessionCreator);
    const doomed = await mesh.spawn(ServiceName.Provisioner);
    const org = uniqueId('org');
    const tasks = [0, 1, 2, 3].map((i) => `t${i}`);
    const created = await createMany(mesh, org, tasks, 3);

    // All four provision jobs are in the provisioner's hands and the sandboxes are half made.
    await waitFor(
      'four provision jobs in flight',
      async () => (await mesh.consumer(Streams.provision.name, Streams.provision.consumer)).ackPending === 4,
      30_000,
    );
    await waitFor(
      'provisioning under way',
      async () => {
        const all = await Promise.all(tasks.map((t) => mesh.tasks.getTask(org, t)));
        return all.every((t) => t?.value.step === 'creating_sandbox');
      },
      30_000,
    );
    const exit = await doomed.kill('SIGKILL');
    expect(exit.signal).toBe('SIGKILL');
    expect((await mesh.live()).sandboxesByTask.size).toBe(0);
    for (const t of await mesh.allTabs(org)) expect(t.state).toBe(TabState.PendingProvision);

    const next = await mesh.spawn(ServiceName.Provisioner);
    await expectSettled(mesh, org, tasks, created);
    // The new process did the work, from redelivered jobs.
    expect(next.lines('task provisioned').map((l) => l.delivery)).toEqual([2, 2, 2, 2]);
  });

  it('session-creator SIGKILLed mid-creation: a new process gives every tab exactly one live session', async () => {
    // 'tab ready' is a debug line: the lines read below tell which worker made the sessions.
    // Sessions long enough that the first task's are still being made when the last task's start,
    // also on a loaded machine (its provisioning may finish seconds after the first one's).
    mesh = await fixture.start({ TABMESH_SIM_SESSION_MS: '8000', LOG_LEVEL: 'debug' });
    await mesh.spawn(ServiceName.TabRegistry);
    await mesh.spawn(ServiceName.Provisioner);
    const doomed = await mesh.spawn(ServiceName.SessionCreator);
    const org = uniqueId('org');
    const tasks = ['a', 'b'];
    const created = await createMany(mesh, org, tasks, 4);

    // Every tab waits for its session and every session job is with the worker (a task's tabs that
    // waited for its provisioning share one job): all eight sessions are being made when it dies.
    await waitFor(
      'every session job in flight',
      async () => {
        const c = await mesh.consumer(Streams.sessions.name, Streams.sessions.consumer);
        const tabs = await mesh.allTabs(org);
        return (
          c.pending === 0 &&
          c.ackPending > 0 &&
          tabs.length === 8 &&
          tabs.every((t) => t.state === TabState.PendingSessionCreate)
        );
      },
      30_000,
    );
    await doomed.kill('SIGKILL');
    for (const t of await mesh.allTabs(org)) expect(t.state).toBe(TabState.PendingSessionCreate);

    const next = await mesh.spawn(ServiceName.SessionCreator);
    await expectSettled(mesh, org, tasks, created);
    expect(next.lines('tab ready').every((l) => l.delivery === 2)).toBe(true);
    expect(next.lines('tab ready')).toHaveLength(8);
  });
});
