import { newTask, type TaskRecord, taskKey, toProvisioned, toProvisioning, toReprovisioning } from '@tabmesh/contracts';
import { type BusOnServer, startBusOnServer, waitFor } from '@tabmesh/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Bus, createLogger, ProvisionedTasks, TaskStore } from '../src/index.js';

describe('the watch of tasks', () => {
  let running: BusOnServer;
  let bus: Bus;
  let store: TaskStore;
  const watches: ProvisionedTasks[] = [];
  beforeAll(async () => {
    running = await startBusOnServer();
    bus = running.bus;
    store = new TaskStore(bus.tasks);
  });
  afterAll(async () => {
    for (const w of watches) w.stop();
    await running.stop();
  });

  async function watch(recentMax?: number): Promise<ProvisionedTasks> {
    const w = new ProvisionedTasks(bus.tasks, createLogger('test', 'silent'), recentMax);
    await w.start();
    watches.push(w);
    return w;
  }

  async function write(record: TaskRecord | null): Promise<TaskRecord> {
    if (!record) throw new Error('no transition');
    const key = taskKey(record.org, record.task);
    await store.mutate(key, () => record);
    return record;
  }

  it('holds provisioned tasks, and of the others the latest record written', async () => {
    const w = await watch();
    const provisioning = await write(toProvisioning(newTask('org-a', 'task-1')));
    const key = taskKey('org-a', 'task-1');
    await waitFor('the provisioning task seen', () => w.seen(key)?.state === 'provisioning');
    expect(w.byKey.has(key)).toBe(false);
    const provisioned = await write(toProvisioned(provisioning, { provider: 'sim', id: 'sbx-1' }));
    await waitFor('the provisioned task seen', () => w.seen(key)?.state === 'provisioned');
    expect(w.byKey.get(key)?.sandbox?.id).toBe('sbx-1');
    // Letting the sandbox go: the task is no longer provisioned, and what is seen says so.
    await write(toReprovisioning(provisioned, 'sbx-1'));
    await waitFor('the sandbox let go', () => w.seen(key)?.state === 'provisioning');
    expect(w.byKey.has(key)).toBe(false);
    await bus.tasks.delete(key);
    await waitFor('the delete seen', () => w.seen(key) === undefined);
  });

  it('forgets the oldest unprovisioned tasks beyond its bound, never a provisioned one', async () => {
    const w = await watch(3);
    const held = await write(toProvisioning(newTask('org-b', 'held')));
    await write(toProvisioned(held, { provider: 'sim', id: 'sbx-held' }));
    for (const t of ['t1', 't2', 't3', 't4']) await write(toProvisioning(newTask('org-b', t)));
    await waitFor('the last task seen', () => w.seen(taskKey('org-b', 't4')));
    expect(w.seen(taskKey('org-b', 't1'))).toBeUndefined();
    expect(['t2', 't3', 't4'].map((t) => w.seen(taskKey('org-b', t))?.task)).toEqual(['t2', 't3', 't4']);
    expect(w.seen(taskKey('org-b', 'held'))?.state).toBe('provisioned');
  });
});
