import { ErrorCode, TabState, ValidationError } from '@tabmesh/contracts';
import { uniqueId } from '@tabmesh/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NetworkError, TabmeshClient, TabmeshHttpError } from '../src/index.js';
import { GatewayMesh } from './support/gateway-mesh.js';

describe('TabmeshClient against a real gateway and mesh', () => {
  let m: GatewayMesh;
  let http: TabmeshClient;
  beforeAll(async () => {
    m = await GatewayMesh.start();
    http = m.http();
  });
  afterAll(() => m?.stop());

  const ids = () => ({ org: uniqueId('org'), task: uniqueId('task') });

  it('creates, lists, reads, marks read and closes tabs, with validated responses', async () => {
    const { org, task } = ids();
    expect((await http.getTask(org, task)).state).toBe('unprovisioned');
    const { tab, created } = await http.createTab(org, task, { title: 'one', agent: 'mock', clientRequestId: 'req-1' });
    expect(created).toBe(true);
    expect(tab).toMatchObject({ org, task, title: 'one', state: TabState.PendingProvision });
    const again = await http.createTab(org, task, { title: 'one', clientRequestId: 'req-1' });
    expect(again).toMatchObject({ created: false, tab: { id: tab.id } });

    const ready = await m.mesh.waitForState(org, task, tab.id, [TabState.Ready]);
    expect(ready.unread).toBe(true);
    expect((await http.markRead(org, task, tab.id)).unread).toBe(false);
    const list = await http.listTabs(org, task);
    expect(list.tabs.map((t) => t.id)).toEqual([tab.id]);
    expect(list.revision).toBeGreaterThanOrEqual(list.tabs[0]!.revision);
    expect((await http.getTask(org, task)).state).toBe('provisioned');

    expect((await http.closeTab(org, task, tab.id)).state).toBe(TabState.Closed);
    expect((await http.listTabs(org, task)).tabs).toEqual([]);
    expect((await http.getTab(org, task, tab.id)).state).toBe(TabState.Closed);
  });

  it('turns problem+json into TabmeshHttpError with its code, status and detail', async () => {
    const { org, task } = ids();
    const { tab } = await http.createTab(org, task);
    await m.mesh.waitForState(org, task, tab.id, [TabState.Ready]);
    const conflict = await http.retryTab(org, task, tab.id).catch((e: unknown) => e);
    expect(conflict).toBeInstanceOf(TabmeshHttpError);
    expect(conflict).toMatchObject({ code: ErrorCode.InvalidTransition, status: 409 });
    expect((conflict as TabmeshHttpError).detail.length).toBeGreaterThan(0);
    expect((conflict as TabmeshHttpError).requestId).toBeTruthy();

    const missing = await http.getTab(org, task, '01JZZZZZZZZZZZZZZZZZZZZZZZ').catch((e: unknown) => e);
    expect(missing).toMatchObject({ name: 'TabmeshHttpError', code: ErrorCode.NotFound, status: 404 });
    const bad = await http.getTask('bad.org', task).catch((e: unknown) => e);
    expect(bad).toMatchObject({ code: ErrorCode.InvalidRequest, status: 400 });
  });

  it('checks a create body before sending it, and reports an unreachable gateway as NetworkError', async () => {
    await expect(http.createTab('o', 't', { agent: 'not an agent!' })).rejects.toBeInstanceOf(ValidationError);
    const nowhere = new TabmeshClient({ baseUrl: 'http://127.0.0.1:1' });
    const err = await nowhere.getTask('o', 't').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetworkError);
    expect(err).toMatchObject({ code: ErrorCode.Unavailable, retryable: true });
  });
});
