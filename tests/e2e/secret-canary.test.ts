import { randomBytes } from 'node:crypto';
import { mintToken } from '@tabmesh/auth';
import { type SandboxRef, TabResponseSchema } from '@tabmesh/contracts';
import { inProcess } from '@tabmesh/harness';
import { type ProvisionRequest, SimProvider } from '@tabmesh/providers';
import { type Mesh, setup, uniqueId, waitFor } from '@tabmesh/testkit';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';

const Secret = 'secret-canary-test-secret-0123456789abcdef';
const canaryEndpoint = `https://canary-endpoint-${randomBytes(6).toString('hex')}.invalid/agent`;
const canaryToken = `canary-token-${randomBytes(12).toString('hex')}`;

/** The sim provider, but its sandboxes carry an endpoint and a token that must never leave the mesh. */
class CanaryProvider extends SimProvider {
  override async provision(req: ProvisionRequest): Promise<SandboxRef> {
    const ref = await super.provision(req);
    return { ...ref, endpoint: canaryEndpoint, token: canaryToken };
  }
}

describe('sandbox endpoint and token never reach a client', () => {
  const gatewayLogs: string[] = [];
  // The harness's services, but the gateway logs everything, at trace, into `gatewayLogs`.
  const services = {
    ...inProcess,
    gateway: (ctx: Parameters<typeof inProcess.gateway>[0]) =>
      inProcess.gateway({
        ...ctx,
        logger: pino({ level: 'trace' }, { write: (line: string) => void gatewayLogs.push(line) }),
      }),
  };
  let mesh: Mesh<typeof services, CanaryProvider>;
  beforeAll(async () => {
    mesh = await setup({
      services: { gateway: 1 },
      inProcess: services,
      env: { TABMESH_SIM_PROVISION_MS: '100', TABMESH_SIM_SESSION_MS: '30', TABMESH_JWT_SECRET: Secret },
      provider: new CanaryProvider({ provisionMs: 100, sessionMs: 30, failRate: 0 }),
    });
  });
  afterAll(async () => {
    await mesh?.stop();
  });

  it('keeps them out of every HTTP reply, WebSocket frame and gateway log line of a full lifecycle', async () => {
    const org = uniqueId('org');
    const task = uniqueId('task');
    const token = await mintToken({ secret: Secret, sub: 'canary', orgs: [org], ttlSeconds: 600 });
    const base = `http://127.0.0.1:${mesh.gateway.httpPort}/v1/orgs/${org}/tasks/${task}`;
    const replies: string[] = [];
    const http = async (path: string, init: RequestInit = {}) => {
      const res = await fetch(`${base}${path}`, {
        ...init,
        headers: { authorization: `Bearer ${token}`, ...(init.body ? { 'content-type': 'application/json' } : {}) },
      });
      const text = await res.text();
      const headers: string[] = [];
      res.headers.forEach((value, name) => {
        headers.push(`${name}: ${value}`);
      });
      replies.push(`${res.status} ${headers.join(' ')} ${text}`);
      return { status: res.status, text };
    };

    const frames: string[] = [];
    // This gateway's own token (signed with `Secret`), not the harness's test one.
    const ws = new WebSocket(`ws://127.0.0.1:${mesh.gateway.wsPort}/v1/ws?access_token=${token}`);
    ws.on('message', (data) => frames.push(String(data)));
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    ws.send(JSON.stringify({ op: 'subscribe', org, task }));
    await waitFor('snapshot', () => frames.length > 0);

    const created = await http('/tabs', { method: 'POST', body: JSON.stringify({ title: 'canary' }) });
    expect(created.status).toBe(201);
    const tab = TabResponseSchema.parse(JSON.parse(created.text)).tab;
    await waitFor('ready', () => frames.some((f) => f.includes('"state":"ready"')), 15_000);
    // The sandbox really holds the canaries inside the mesh (in `sandbox-secrets`, not in the task
    // record the gateway watches), so their absence outside means something.
    const record = await mesh.tasks.getTask(org, task);
    expect(record?.value.sandbox).toEqual({ provider: 'sim', id: expect.any(String) });
    const sandbox = record?.value.sandbox;
    if (!sandbox) throw new Error('task has no sandbox');
    expect(await mesh.reach(sandbox)).toMatchObject({ endpoint: canaryEndpoint, token: canaryToken });

    const status = await http('');
    expect(JSON.parse(status.text).task.sandbox).toEqual({ provider: 'sim', id: record!.value.sandbox!.id });
    await http('/tabs');
    await http(`/tabs/${tab.id}`);
    await http(`/tabs/${tab.id}/read`, { method: 'POST' });
    await http(`/tabs/${tab.id}/retry`, { method: 'POST' });
    // A resume and a fresh snapshot of the provisioned task.
    ws.send(JSON.stringify({ op: 'subscribe', org, task, sinceRevision: 1 }));
    ws.send(JSON.stringify({ op: 'subscribe', org, task }));
    await waitFor('fresh snapshot', () => frames.filter((f) => f.includes('"type":"snapshot"')).length >= 2);
    expect(frames.some((f) => f.includes('"type":"snapshot"') && f.includes('"state":"provisioned"'))).toBe(true);
    expect((await http(`/tabs/${tab.id}`, { method: 'DELETE' })).status).toBe(202);
    expect((await http('', { method: 'DELETE' })).status).toBe(202);
    await waitFor(
      'teardown frame',
      () => frames.some((f) => f.includes('"type":"task"') && f.includes('"state":"unprovisioned"')),
      15_000,
    );
    ws.close();

    expect(frames.length).toBeGreaterThan(5);
    expect(replies.length).toBe(8);
    const host = new URL(canaryEndpoint).host;
    for (const text of [...replies, ...frames, ...gatewayLogs]) {
      expect(text).not.toContain(canaryToken);
      expect(text).not.toContain(host);
      expect(text).not.toContain('"endpoint"');
    }
    // The bearer token is not logged either.
    expect(gatewayLogs.join('\n')).not.toContain(token.split('.')[2]);
  });
});
