import { TabSlotsSchema, taskKey } from '@tabmesh/contracts';
import { type Bus, createLogger, TabStore, TypedBucket } from '@tabmesh/runtime';
import { type BusOnServer, startBusOnServer } from '@tabmesh/testkit';
import { ulid } from 'ulidx';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TabIndex } from '../src/tab-index.js';
import { TabSlots } from '../src/tab-slots.js';

/** Two registries' slot sets over one bucket: each remembers the version it last wrote. */
describe('tab slots held by several registries', () => {
  let running: BusOnServer;
  let bus: Bus;
  let index: TabIndex;
  const registry = (max: number) =>
    new TabSlots(new TypedBucket(bus.tabSlots, TabSlotsSchema, 'tab slots'), new TabStore(bus.tabs), index, {
      max,
      graceMs: 60_000,
    });
  const held = async (task: string) =>
    (await new TypedBucket(bus.tabSlots, TabSlotsSchema, 'tab slots').get(taskKey('o', task)))?.value.tabs ?? [];

  beforeAll(async () => {
    running = await startBusOnServer();
    bus = running.bus;
    index = new TabIndex(bus.tabs, createLogger('test', 'silent'));
  });
  afterAll(() => running.stop());

  it('never writes from a stale version: changes made by another registry meanwhile are kept', async () => {
    const a = registry(10);
    const b = registry(10);
    const [t1, t2, t3, t4] = [ulid(), ulid(), ulid(), ulid()];
    await a.reserve('o', 'task-1', t1);
    await b.reserve('o', 'task-1', t2);
    // a remembers [t1]; the set is [t1, t2]. a's next write must not drop t2.
    await a.reserve('o', 'task-1', t3);
    expect(await held('task-1')).toEqual([t1, t2, t3]);
    // b remembers [t1, t2]: releasing t3, which b never saw, must still free it.
    await b.release('o', 'task-1', t3);
    expect(await held('task-1')).toEqual([t1, t2]);
    // a remembers [t1, t2, t3], where t3 is taken: taking it again must take it, not find it held.
    await a.reserve('o', 'task-1', t3);
    expect(await held('task-1')).toEqual([t1, t2, t3]);
    // b remembers [t1, t2]: releasing t4, free in both views, writes nothing.
    await b.release('o', 'task-1', t4);
    expect(await held('task-1')).toEqual([t1, t2, t3]);
  });

  it('refuses at the bound only on what is stored, not on a stale version', async () => {
    const a = registry(2);
    const b = registry(2);
    const [t1, t2, t3] = [ulid(), ulid(), ulid()];
    await a.reserve('o', 'task-2', t1);
    await a.reserve('o', 'task-2', t2);
    // a remembers a full set; b frees a slot.
    await b.release('o', 'task-2', t1);
    await a.reserve('o', 'task-2', t3);
    expect(await held('task-2')).toEqual([t2, t3]);
    await expect(b.reserve('o', 'task-2', ulid())).rejects.toMatchObject({ code: 'limit_reached' });
  });
});
