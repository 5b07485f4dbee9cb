import {
  ProblemSchema,
  type ServerFrame,
  ServerFrameSchema,
  TabListResponseSchema,
  TabResponseSchema,
  TaskResponseSchema,
} from '@tabmesh/contracts';
import { setup, type TabmeshMesh } from '@tabmesh/harness';
import { testAuthHeader, uniqueId, waitFor } from '@tabmesh/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';

/** The whole mesh as a workbench sees it: HTTP to act, one WebSocket to watch. */
describe('HTTP and WebSocket through the gateway, over the whole mesh', () => {
  let mesh: TabmeshMesh;
  let base: string;
  let wsUrl: string;
  /** fetch with the bearer token every `/v1` route needs. */
  const call = (url: string, init: RequestInit = {}) =>
    fetch(url, { ...init, headers: { ...(init.headers as Record<string, string> | undefined), ...testAuthHeader() } });
  beforeAll(async () => {
    mesh = await setup({
      services: { gateway: 1 },
      env: { TABMESH_SIM_PROVISION_MS: '150', TABMESH_SIM_SESSION_MS: '50' },
    });
    ({ http: base, ws: wsUrl } = mesh.gatewayUrls());
  });
  afterAll(() => mesh.stop());

  const json = async (res: Response) => ({
    status: res.status,
    type: res.headers.get('content-type'),
    body: (await res.json()) as unknown,
  });

  it('shows a tab created over HTTP going pending_provision → pending_session_create → ready on the WebSocket', async () => {
    const org = uniqueId('org');
    const task = uniqueId('task');
    const frames: ServerFrame[] = [];
    const invalid: unknown[] = [];
    const ws = new WebSocket(wsUrl);
    ws.on('message', (data) => {
      const parsed = ServerFrameSchema.safeParse(JSON.parse(String(data)));
      if (parsed.success) frames.push(parsed.data);
      else invalid.push(String(data));
    });
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    ws.send(JSON.stringify({ op: 'subscribe', org, task }));
    await waitFor('snapshot', () => frames.length > 0);
    expect(frames[0]).toMatchObject({ type: 'snapshot', org, task, tabs: [], taskStatus: { state: 'unprovisioned' } });

    const created = await json(
      await call(`${base}/v1/orgs/${org}/tasks/${task}/tabs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ title: 'fix the build', clientRequestId: 'click-1' }),
      }),
    );
    expect(created.status).toBe(201);
    const tab = TabResponseSchema.parse(created.body).tab;
    expect(tab.state).toBe('pending_provision');

    await waitFor(
      'ready frame',
      () => frames.some((f) => f.type === 'tab' && f.tab.id === tab.id && f.tab.state === 'ready'),
      15_000,
    );
    const tabFrames = frames.flatMap((f) => (f.type === 'tab' && f.tab.id === tab.id ? [f.tab] : []));
    const states = tabFrames.map((t) => t.state).filter((s, i, all) => s !== all[i - 1]);
    expect(states).toEqual(['pending_provision', 'pending_session_create', 'ready']);
    const revisions = tabFrames.map((t) => t.revision);
    expect(revisions).toEqual([...revisions].sort((a, b) => a - b));
    expect(new Set(revisions).size).toBe(revisions.length);
    const taskStates = frames.flatMap((f) => (f.type === 'task' ? [f.task.state] : []));
    expect(taskStates).toContain('provisioning');
    expect(taskStates.at(-1)).toBe('provisioned');
    expect(invalid).toEqual([]);

    // The same click again returns the same tab.
    const again = await json(
      await call(`${base}/v1/orgs/${org}/tasks/${task}/tabs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ clientRequestId: 'click-1' }),
      }),
    );
    expect(again.status).toBe(200);
    expect(TabResponseSchema.parse(again.body).tab.id).toBe(tab.id);

    const list = TabListResponseSchema.parse(
      (await json(await call(`${base}/v1/orgs/${org}/tasks/${task}/tabs`))).body,
    );
    expect(list.tabs.map((t) => t.id)).toEqual([tab.id]);
    expect(list.revision).toBeGreaterThanOrEqual(tabFrames.at(-1)!.revision);
    const status = TaskResponseSchema.parse((await json(await call(`${base}/v1/orgs/${org}/tasks/${task}`))).body);
    expect(status.task.state).toBe('provisioned');

    const read = await json(await call(`${base}/v1/orgs/${org}/tasks/${task}/tabs/${tab.id}/read`, { method: 'POST' }));
    expect(TabResponseSchema.parse(read.body).tab.unread).toBe(false);

    const retry = await json(
      await call(`${base}/v1/orgs/${org}/tasks/${task}/tabs/${tab.id}/retry`, { method: 'POST' }),
    );
    expect(retry.status).toBe(409);
    expect(retry.type).toContain('application/problem+json');
    expect(ProblemSchema.parse(retry.body).code).toBe('invalid_transition');

    const closed = await json(await call(`${base}/v1/orgs/${org}/tasks/${task}/tabs/${tab.id}`, { method: 'DELETE' }));
    expect(closed.status).toBe(202);
    await waitFor('closed frame', () =>
      frames.some((f) => f.type === 'tab' && f.tab.id === tab.id && f.tab.state === 'closed'),
    );
    const after = TabListResponseSchema.parse(
      (await json(await call(`${base}/v1/orgs/${org}/tasks/${task}/tabs`))).body,
    );
    expect(after.tabs).toEqual([]);
    const byId = TabResponseSchema.parse(
      (await json(await call(`${base}/v1/orgs/${org}/tasks/${task}/tabs/${tab.id}`))).body,
    );
    expect(byId.tab.state).toBe('closed');
    expect(invalid).toEqual([]);
    ws.close();
  });
});
