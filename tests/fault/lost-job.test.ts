import { provisionSubject, Streams, sessionSubject, TabState } from '@tabmesh/contracts';
import { ServiceName, sleep, uniqueId, waitFor } from '@tabmesh/testkit';
import { describe, expect, it } from 'vitest';
import { type FaultMesh, faultMeshPerTest } from '../src/index.js';

const Republished = 'pending tab untouched and its job not queued: publishing the job again';

// The sweep notices quickly here; the dedupe window stays at its default (120 s), so a job lost
// within it can only come back under a new dedupe id.
const sweepEnv = {
  TABMESH_SWEEP_INTERVAL_MS: '250',
  TABMESH_SWEEP_AFTER_MS: '500',
  TABMESH_SWEEP_LOST_AFTER_MS: '2000',
};

/** Removes the last job on `subject`, as a server that lost it would leave the queue. */
async function loseJob(mesh: FaultMesh, stream: string, subject: string): Promise<void> {
  const msg = await mesh.bus.jsm.streams.getMessage(stream, { last_by_subj: subject });
  if (!msg) throw new Error(`no job on ${subject}`);
  expect(await mesh.bus.jsm.streams.deleteMessage(stream, msg.seq)).toBe(true);
}

async function jobsOn(mesh: FaultMesh, stream: string, subject: string): Promise<number> {
  const info = await mesh.bus.jsm.streams.info(stream, { subjects_filter: subject });
  return info.state.subjects?.[subject] ?? 0;
}

/** One tab on a task of its own. */
async function createOnFreshTask(mesh: FaultMesh) {
  const org = uniqueId('org');
  const task = uniqueId('task');
  const created = await mesh.tryCreate(org, task);
  if (!created.ok) throw new Error(created.error);
  return { org, task, tab: created.tab };
}

describe('a job lost from its queue after it was published', () => {
  const fixture = faultMeshPerTest();

  it('provision job: the sweep publishes it again under a new dedupe id and the tab ends ready on one sandbox', async () => {
    const mesh = await fixture.start(sweepEnv);
    const registry = await mesh.spawn(ServiceName.TabRegistry);
    const { org, task, tab: created } = await createOnFreshTask(mesh);
    await loseJob(mesh, Streams.provision.name, provisionSubject(org, task));

    await mesh.spawn(ServiceName.Provisioner);
    await mesh.spawn(ServiceName.SessionCreator);
    await mesh.waitForState(org, task, created.id, [TabState.Ready], 30_000);
    const republished = registry.lines(Republished).filter((l) => l.tab === created.id);
    expect(republished.length).toBeGreaterThanOrEqual(1);
    expect(republished[0]).toMatchObject({ job: 'absent', state: TabState.PendingProvision, round: 1 });
    const live = await mesh.live();
    expect(live.sandboxesByTask.get(`${org}.${task}`)).toBe(1);
    expect(live.sessionsByTab.get(created.id)).toBe(1);
  });

  it('session job: published again and the tab ends ready with one session', async () => {
    const mesh = await fixture.start(sweepEnv);
    await mesh.spawn(ServiceName.TabRegistry);
    await mesh.spawn(ServiceName.Provisioner);
    const { org, task, tab: created } = await createOnFreshTask(mesh);
    await mesh.waitForState(org, task, created.id, [TabState.PendingSessionCreate], 30_000);
    // The provisioner publishes the session job just after it moves the tab on.
    const subject = sessionSubject(org, task, created.id);
    await waitFor('the session job queued', async () => (await jobsOn(mesh, Streams.sessions.name, subject)) === 1);
    await loseJob(mesh, Streams.sessions.name, subject);

    await mesh.spawn(ServiceName.SessionCreator);
    const ready = await mesh.waitForState(org, task, created.id, [TabState.Ready], 30_000);
    expect(ready.attempt).toBe(created.attempt);
    expect((await mesh.live()).sessionsByTab.get(created.id)).toBe(1);
  });

  it('a job waiting in its queue is not published again, however long it waits', async () => {
    const mesh = await fixture.start(sweepEnv);
    const registry = await mesh.spawn(ServiceName.TabRegistry);
    const { org, task, tab: created } = await createOnFreshTask(mesh);
    // No provisioner yet: three lost-after periods pass with the job queued.
    await sleep(6500);
    expect(await jobsOn(mesh, Streams.provision.name, provisionSubject(org, task))).toBe(1);
    expect(registry.lines(Republished)).toEqual([]);

    await mesh.spawn(ServiceName.Provisioner);
    await mesh.spawn(ServiceName.SessionCreator);
    await mesh.waitForState(org, task, created.id, [TabState.Ready], 30_000);
    expect((await mesh.live()).sandboxesByTask.get(`${org}.${task}`)).toBe(1);
  });
});
