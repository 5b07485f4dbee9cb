import { nextTaskProgress, TabState, tabKey, taskProgressKey } from '@tabmesh/contracts';
import { type Bus, createLogger, TabStore } from '@tabmesh/runtime';
import { type BusOnServer, startBusOnServer, tabRecord, uniqueId, waitFor } from '@tabmesh/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TabIndex } from '../src/tab-index.js';

const minutesAgo = (n: number) => new Date(Date.now() - n * 60_000).toISOString();

/** What the pending sweep reads: how fresh a waiting tab is, and what it shows. */
describe('the registry index: a waiting tab is as fresh as its task progress entry', () => {
  let running: BusOnServer;
  let bus: Bus;
  let tabs: TabStore;
  let index: TabIndex;

  beforeAll(async () => {
    running = await startBusOnServer();
    bus = running.bus;
    tabs = new TabStore(bus.tabs);
    index = new TabIndex(bus.tabs, createLogger('test', 'silent'));
    await index.start();
  });
  afterAll(async () => {
    index.stop();
    await running.stop();
  });

  async function writeStep(org: string, task: string, detail: string): Promise<void> {
    const where = { org, task, generation: 1 };
    await tabs.progress.mutate(taskProgressKey(org, task), (cur) =>
      nextTaskProgress(cur?.value, where, 'queued', detail, true),
    );
  }

  it('takes the later of the tab and its task progress entry, for waiting tabs only', async () => {
    const org = uniqueId('org');
    const task = uniqueId('task');
    const waiting = tabRecord(org, task, { updatedAt: minutesAgo(10), progress: 'Queued' });
    const moved = tabRecord(org, task, {
      state: TabState.PendingSessionCreate,
      sandboxId: 'sbx-1',
      updatedAt: minutesAgo(10),
      progress: 'Creating session',
    });
    await tabs.create(tabKey(org, task, waiting.id), waiting);
    await tabs.create(tabKey(org, task, moved.id), moved);
    await writeStep(org, task, 'sandbox limit 3 reached');
    await waitFor('the index to see the tabs', () => index.pending.size >= 2);

    const shown = await waitFor('the index to see the entry', () => {
      const s = index.lastProgress(waiting);
      return s.progress === 'Queued (sandbox limit 3 reached)' ? s : undefined;
    });
    expect(Date.now() - Date.parse(shown.updatedAt)).toBeLessThan(60_000);
    // A tab waiting for its session does not wait on the task's provisioning.
    expect(index.lastProgress(moved)).toMatchObject({ updatedAt: moved.updatedAt, progress: 'Creating session' });
    // A tab written after the entry shows what it was written with.
    const later = { ...waiting, updatedAt: new Date(Date.now() + 1000).toISOString(), progress: 'Queued' };
    expect(index.lastProgress(later)).toMatchObject({ updatedAt: later.updatedAt, progress: 'Queued' });
  });
});
