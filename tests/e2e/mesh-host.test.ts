import { BusIdentity, TabResponseSchema, TabState } from '@tabmesh/contracts';
import { type Mesh, MeshHost, type ServiceProcess, setup, testAuthHeader, uniqueId, waitFor } from '@tabmesh/testkit';
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

  it('drains every service it hosts on SIGTERM, then exits 0', async () => {
    const exit = await host.stop();
    expect(exit.code).toBe(0);
    const drained = host.lines('drain end').map((l) => l.service);
    expect(drained.sort()).toEqual(['gateway', 'provisioner', 'session-creator', 'tab-registry']);
    expect(host.lines('stopped').map((l) => l.service)).toContain(MeshHost);
  });
});
