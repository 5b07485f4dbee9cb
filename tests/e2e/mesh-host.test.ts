import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import { BusIdentity, decode, Subjects, TabReplySchema, TabResponseSchema, TabState } from '@tabmesh/contracts';
import {
  type Mesh,
  MeshHost,
  repoRoot,
  type ServiceProcess,
  setup,
  testAuthHeader,
  uniqueId,
  waitFor,
} from '@tabmesh/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

type Connz = { connections: Array<{ name?: string; authorized_user?: string }> };

/**
 * The four services in one process (scripts/mesh-host.ts, what `pnpm start` runs): each still
 * connects as its own bus user, the mesh works end to end, and a SIGTERM drains every service.
 */
describe('the mesh host: four services in one process', () => {
  let mesh: Mesh;
  let host: ServiceProcess<typeof MeshHost>;
  beforeAll(async () => {
    mesh = await setup({
      mode: 'process',
      natsServer: { monitor: true },
      services: { tabRegistry: 0, provisioner: 0, sessionCreator: 0, gateway: 0 },
    });
    host = await mesh.spawnHost();
  });
  afterAll(() => mesh.stop());

  it('connects each service as its own bus user, not as one identity for all', async () => {
    const connz = (await (await fetch(`${mesh.server?.monitorUrl}/connz?auth=1&limit=1000`)).json()) as Connz;
    const users = connz.connections.map((c) => c.authorized_user);
    for (const service of [
      BusIdentity.Gateway,
      BusIdentity.TabRegistry,
      BusIdentity.Provisioner,
      BusIdentity.SessionCreator,
    ]) {
      expect(users, `a connection as ${service}`).toContain(service);
    }
  });

  it('takes a tab created over HTTP to ready', async () => {
    const { http } = mesh.gatewayUrls(host);
    const org = uniqueId('host');
    const res = await fetch(`${http}/v1/orgs/${org}/tasks/t1/tabs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...testAuthHeader() },
      body: JSON.stringify({ title: 'one process' }),
    });
    expect(res.status).toBe(201);
    const { tab } = TabResponseSchema.parse(await res.json());
    await waitFor('the tab ready', async () => {
      const read = await fetch(`${http}/v1/orgs/${org}/tasks/t1/tabs/${tab.id}`, { headers: testAuthHeader() });
      return TabResponseSchema.parse(await read.json()).tab.state === TabState.Ready;
    });
  });

  it('has the gateway ask the registry in the process: a create and a close put no tab request on the bus', async () => {
    const nc = await connect({ servers: mesh.natsUrl, ...mesh.adminAuth });
    const seen: string[] = [];
    const sub = nc.subscribe('tab.>', { callback: (_err, msg) => void seen.push(msg.subject) });
    await nc.flush();
    try {
      const { http } = mesh.gatewayUrls(host);
      const org = uniqueId('host');
      const res = await fetch(`${http}/v1/orgs/${org}/tasks/t1/tabs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...testAuthHeader() },
        body: JSON.stringify({ title: 'no hop' }),
      });
      expect(res.status).toBe(201);
      const { tab } = TabResponseSchema.parse(await res.json());
      // Another client on the bus still reaches the registry through its queue group.
      const viaBus = await nc.request(
        Subjects.tabRead,
        new TextEncoder().encode(JSON.stringify({ v: 1, org, task: 't1', tab: tab.id })),
        { timeout: 5000 },
      );
      expect(decode(TabReplySchema, viaBus.data, 'reply')).toMatchObject({ ok: true, tab: { id: tab.id } });
      const closed = await fetch(`${http}/v1/orgs/${org}/tasks/t1/tabs/${tab.id}`, {
        method: 'DELETE',
        headers: testAuthHeader(),
      });
      expect(closed.status).toBe(202);
      const read = await fetch(`${http}/v1/orgs/${org}/tasks/t1/tabs/${tab.id}`, { headers: testAuthHeader() });
      expect(TabResponseSchema.parse(await read.json()).tab.state).toBe(TabState.Closed);
      await nc.flush();
      expect(seen).toEqual([Subjects.tabRead]);
    } finally {
      sub.unsubscribe();
      await nc.close();
    }
  });

  it('drains every service it hosts on SIGTERM, then exits 0', async () => {
    const exit = await host.stop();
    expect(exit.code).toBe(0);
    const drained = host.lines('drain end').map((l) => l.service);
    expect(drained.sort()).toEqual(['gateway', 'provisioner', 'session-creator', 'tab-registry']);
    expect(host.lines('stopped').map((l) => l.service)).toContain(MeshHost);
  });
});

describe('the mesh host given a bad TABMESH_HOSTED_ENV', () => {
  const run = (hostedEnv: string) =>
    new Promise<{ code: number | null; output: string }>((resolve) => {
      const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'scripts', 'mesh-host.ts')], {
        cwd: repoRoot,
        env: { ...process.env, NATS_URL: 'nats://127.0.0.1:1', TABMESH_HOSTED_ENV: hostedEnv },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      for (const s of [child.stdout, child.stderr]) s.on('data', (d: Buffer) => (output += d.toString()));
      child.once('exit', (code) => resolve({ code, output }));
    });

  it.each([
    ['JSON cut short', '{"gateway":{"NATS_PASSWORD":"hunter2-canary'],
    ['a service it does not know', '{"billing":{"NATS_PASSWORD":"hunter2-canary"}}'],
    ['no service at all', '{}'],
  ])('refuses %s, says why, and never repeats the input', async (_what, hostedEnv) => {
    const { code, output } = await run(hostedEnv);
    expect(code).toBe(1);
    expect(output).toContain('TABMESH_HOSTED_ENV must be a JSON object naming at least one of');
    expect(output).not.toContain('hunter2-canary');
  });
});
