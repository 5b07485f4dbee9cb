import { TabState } from '@tabmesh/contracts';
import { tabRecord, waitFor } from '@tabmesh/testkit';
import { describe, expect, it } from 'vitest';
import { harnessForSuite, nextFrames, putTab, subscribedClient, updateTab, validFrames } from './support/harness.js';

describe('gateway through a nats-server restart', () => {
  const h = harnessForSuite();

  const readyz = async () => (await h.http('/readyz')).status;

  it('is unready while nats-server is down, ready again after it restarts, and keeps streaming', async () => {
    const { org, task, c } = await subscribedClient(h);
    const tab = await putTab(h.tabs, tabRecord(org, task));
    await c.waitForCount(2);
    expect(await readyz()).toBe(200);

    await h.server.kill('SIGKILL');
    await waitFor('readyz 503', async () => (await readyz()) === 503);
    const down = await (await h.http('/readyz')).json();
    expect(down).toMatchObject({ ready: false, nats: false });
    // Requests that need NATS fail fast and cleanly meanwhile.
    const started = Date.now();
    const read = await h.http(`/v1/orgs/${org}/tasks/${task}`);
    expect(read.status).toBe(503);
    expect(read.headers.get('content-type')).toMatch(/problem\+json/);
    expect(await read.json()).toMatchObject({ code: 'unavailable' });
    expect(Date.now() - started).toBeLessThan(1000);

    await h.server.restart();
    await waitFor('readyz 200', async () => (await readyz()) === 200, 20_000);

    // The KV watch resumed where it stopped: the subscriber sees the next transition.
    const moved = await waitFor(
      'write after restart',
      async () => updateTab(h.tabs, tab, { state: TabState.PendingSessionCreate }),
      10_000,
    );
    const frames = await nextFrames(c, 3, 15_000);
    expect(frames[2]).toMatchObject({ type: 'tab', tab: { id: tab.record.id, revision: moved.revision } });
    expect(validFrames(c)).toHaveLength(3);
  });
});
