import { TabState, taskKey } from '@tabmesh/contracts';
import { setup, type TabmeshMesh } from '@tabmesh/harness';
import { uniqueId, waitFor } from '@tabmesh/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

async function taskProgressHistory(mesh: TabmeshMesh, org: string, task: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of await mesh.bus.tasks.history({ key: taskKey(org, task) })) {
    const p = (e.json() as { progress: string | null }).progress;
    if (p) out.push(p);
  }
  return out;
}

describe('why a tab is still pending, live from the consumer state', () => {
  let mesh: TabmeshMesh;
  beforeAll(async () => {
    mesh = await setup({
      services: { provisioner: 0 },
      env: {
        TABMESH_QUEUE_OBSERVE_MS: '150',
        TABMESH_SIM_PROVISION_MS: '1500',
        TABMESH_CONCURRENCY: '1',
        TABMESH_ACK_WAIT_MS: '10000',
      },
    });
  });
  afterAll(() => mesh.stop());

  it('says no provisioner is running, then the queue position, then the steps', async () => {
    const org = uniqueId('org');
    const first = await mesh.create(org, 'q-0');
    await waitFor(
      'no-provisioner text',
      async () => (await mesh.tab(org, 'q-0', first.id))?.progress === 'Queued (no provisioner running)',
    );
    expect((await mesh.tasks.status(org, 'q-0')).progress).toBe('Queued (no provisioner running)');

    const more = [];
    for (let i = 1; i < 4; i++) more.push(await mesh.create(org, `q-${i}`));
    await mesh.start('provisioner'); // concurrency 1, 1.5 s per sandbox: a real queue forms
    const last = more[2]!;
    const queued = await waitFor(
      'queue position on the last task',
      async () => {
        const p = (await mesh.tab(org, 'q-3', last.id))?.progress;
        return p && /^Queued \([1-3] ahead\)$/.test(p) ? p : undefined;
      },
      10_000,
    );
    expect(queued).toMatch(/ahead/);
    const ready = await mesh.waitForState(org, 'q-3', last.id, [TabState.Ready], 20_000);
    expect(ready.progress).toBeNull();
    const history = await taskProgressHistory(mesh, org, 'q-3');
    const order = ['ahead', 'Creating sandbox', 'Starting agent'].map((s) => history.findIndex((p) => p.includes(s)));
    expect(order.every((i) => i >= 0)).toBe(true);
    expect(order).toEqual([...order].sort((a, b) => a - b));
  });

  it('says when and how often a failed step will be retried', async () => {
    mesh.provider.failRate = 1;
    const org = uniqueId('org');
    const tab = await mesh.create(org, 'r');
    await mesh.waitForState(org, 'r', tab.id, [TabState.Error], 30_000);
    const history = await taskProgressHistory(mesh, org, 'r');
    expect(history.some((p) => /^Queued \(retrying in \d+ s, 1 of \d\)$/.test(p))).toBe(true);
    mesh.provider.failRate = 0;
  });
});
