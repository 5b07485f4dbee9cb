import { connect, type NatsConnection } from '@nats-io/transport-node';
import { decode, encode, Subjects, TabState, TaskRefRequestSchema, TaskReplySchema } from '@tabmesh/contracts';
import { setup, type TabmeshMesh } from '@tabmesh/harness';
import { sleep, uniqueId } from '@tabmesh/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BusRecorder } from '../src/index.js';

describe('bus contract: every message of a full lifecycle validates against libs/contracts', () => {
  let mesh: TabmeshMesh;
  let spy: NatsConnection;
  let recorder: BusRecorder;
  beforeAll(async () => {
    mesh = await setup({ env: { TABMESH_MAX_DELIVER: '2' } });
    spy = await connect({ servers: mesh.natsUrl, ...mesh.adminAuth });
    recorder = new BusRecorder(spy);
    recorder.start();
    await spy.flush();
  });
  afterAll(async () => {
    await spy.close();
    await mesh.stop();
  });

  it('captures requests, replies, jobs and KV values of create → ready → read → error → retry → close → teardown', async () => {
    const org = uniqueId('org');
    const task = uniqueId('task');
    const a = await mesh.create(org, task, { title: 'a', clientRequestId: 'req-1', model: 'm1' });
    await mesh.create(org, task, { clientRequestId: 'req-1' });
    await mesh.waitForState(org, task, a.id, [TabState.Ready]);
    await mesh.tabOp(Subjects.tabRead, org, task, a.id);
    mesh.provider.failRate = 1;
    const b = await mesh.create(org, task);
    await mesh.waitForState(org, task, b.id, [TabState.Error]);
    mesh.provider.failRate = 0;
    await mesh.tabOp(Subjects.tabRetry, org, task, b.id);
    await mesh.waitForState(org, task, b.id, [TabState.Ready]);
    await mesh.tabOp(Subjects.tabRetry, org, task, b.id); // refused: not in error
    await mesh.tabOp(Subjects.tabClose, org, task, a.id);
    const teardown = await spy.request(Subjects.taskTeardown, encode(TaskRefRequestSchema, { v: 1, org, task }, 't'), {
      timeout: 5000,
    });
    const reply = decode(TaskReplySchema, teardown.data, 'teardown reply');
    expect(reply.ok && reply.closedTabs).toBe(1);
    await sleep(300);
    await recorder.stop();

    expect(recorder.failures()).toEqual([]);
    const kinds = recorder.kinds();
    for (const k of [
      'tab.create',
      'tab.create reply',
      'tab.read',
      'tab.read reply',
      'tab.retry',
      'tab.retry reply',
      'tab.close',
      'tab.close reply',
      'task.teardown',
      'task.teardown reply',
      'job provision',
      'job session',
      'kv tabs',
      'kv tabs task-progress',
      'kv tasks',
      'kv tab-requests',
    ]) {
      expect(kinds[k], k).toBeGreaterThan(0);
    }
    // session jobs: create for a, create for b (two attempts), destroy for a; provision: one generation + teardown
    expect(kinds['job session']).toBeGreaterThanOrEqual(4);
    expect(kinds['job provision']).toBeGreaterThanOrEqual(2);
    const tabsAfter = await mesh.tabs.listTask(org, task);
    expect(tabsAfter.every((t) => t.value.state === TabState.Closed)).toBe(true);
    expect((await mesh.tasks.status(org, task)).state).toBe('unprovisioned');
    expect(mesh.provider.ledger.liveSandboxes(org, task)).toBe(0);
  });
});

describe('bus recorder', () => {
  it('flags a message that breaks the contract, so the check above can fail', async () => {
    await using mesh = await setup({ services: { tabRegistry: 0, provisioner: 0, sessionCreator: 0 } });
    const spy = await connect({ servers: mesh.natsUrl, ...mesh.adminAuth });
    const recorder = new BusRecorder(spy);
    recorder.start();
    await spy.flush();
    await mesh.bus.js.publish(
      'provision.o.t',
      new TextEncoder().encode(JSON.stringify({ v: 1, op: 'provision', org: 'o' })),
    );
    await mesh.bus.tabs.put('o.t.01ARZ3NDEKTSV4RRFFQ69G5FAV', new TextEncoder().encode('{"v":1}'));
    await sleep(100);
    await recorder.stop();
    expect(
      recorder
        .failures()
        .map((f) => f.kind)
        .sort(),
    ).toEqual(['job provision', 'kv tabs']);
    await spy.close();
  });
});
