import { newTab, TabSlotsSchema, tabKey, taskKey, toClosed } from '@tabmesh/contracts';
import { type BusOnServer, startBusOnServer } from '@tabmesh/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Bus, TabStore, TypedBucket } from '../src/index.js';

const ids = ['01JAAAAAAAAAAAAAAAAAAAAAA1', '01JAAAAAAAAAAAAAAAAAAAAAA2', '01JAAAAAAAAAAAAAAAAAAAAAA3'];

describe('TabStore.listOpen (a task’s open tabs from its slot set)', () => {
  let running: BusOnServer;
  let bus: Bus;
  beforeAll(async () => {
    running = await startBusOnServer();
    bus = running.bus;
  });
  afterAll(() => running.stop());

  it('lists the tabs holding a slot in id order, skips a slot without a tab, and leaves out released ones', async () => {
    const tabs = new TabStore(bus.tabs, bus.tabSlots);
    const slots = new TypedBucket(bus.tabSlots, TabSlotsSchema, 'tab slots');
    const fields = (id: string) => ({
      id,
      org: 'o',
      task: 't',
      title: '',
      agent: 'mock',
      model: null,
      clientRequestId: null,
    });
    for (const id of ids) await tabs.create(tabKey('o', 't', id), newTab(fields(id), null));
    // The second tab is closed and its slot given back; a create in flight holds a slot with no tab yet.
    const closed = await tabs.getTab('o', 't', ids[1]!);
    await tabs.update(tabKey('o', 't', ids[1]!), toClosed(closed!.value)!, closed!.revision);
    const inFlight = '01JAAAAAAAAAAAAAAAAAAAAAA0';
    await slots.create(taskKey('o', 't'), { v: 1, tabs: [ids[2]!, inFlight, ids[0]!] });

    const open = await tabs.listOpen('o', 't');
    expect(open.map((t) => t.value.id)).toEqual([ids[0], ids[2]]);
    // The full listing still has every tab, the closed one included.
    expect((await tabs.listTask('o', 't')).map((t) => t.value.id)).toEqual(ids);
    // A task with no slot set has no open tab.
    expect(await tabs.listOpen('o', 'none')).toEqual([]);
  });
});
