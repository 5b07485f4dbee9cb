import { Subjects, TabState } from '@tabmesh/contracts';
import { setup, type TabmeshMesh } from '@tabmesh/harness';
import { sleep, uniqueId, waitFor } from '@tabmesh/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

describe('closed tab retention', () => {
  let mesh: TabmeshMesh;
  beforeAll(async () => {
    mesh = await setup({ env: { TABMESH_CLOSED_RETENTION_MS: '1500' } });
  });
  afterAll(() => mesh.stop());

  it('keeps a closed tab readable for the retention period, then purges it and its clientRequestId', async () => {
    const org = uniqueId('org');
    const task = uniqueId('task');
    const tab = await mesh.create(org, task, { clientRequestId: 'keep-me' });
    const open = await mesh.create(org, task);
    await mesh.tabOp(Subjects.tabClose, org, task, tab.id);
    await sleep(500);
    expect((await mesh.tab(org, task, tab.id))?.state).toBe(TabState.Closed);
    await waitFor('closed tab purged', async () => (await mesh.tab(org, task, tab.id)) === null, 10_000);
    expect(await mesh.tab(org, task, open.id)).not.toBeNull(); // open tabs are never reaped
    const again = await mesh.create(org, task, { clientRequestId: 'keep-me' });
    expect(again.id).not.toBe(tab.id);
  });
});
