import { type ServiceClient, ServiceErrorCodeHeader, Svcm } from '@nats-io/services';
import type { NatsConnection } from '@nats-io/transport-node';
import { decode, encode, QueueGroups, Subjects, TabRefRequestSchema, TabReplySchema } from '@tabmesh/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TabRegistryHandle } from '../src/index.js';
import { type RegistryOnServer, startRegistryOnServer } from './support/registry-on-server.js';

const collect = async <T>(it: AsyncIterable<T>): Promise<T[]> => {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
};

// DESIGN "Operating it": `nats micro ls/info/stats` see tab-registry, its endpoints and their error counts.
describe('tab-registry as a NATS micro service', () => {
  let setup: RegistryOnServer;
  let registry: TabRegistryHandle;
  let nc: NatsConnection;
  let client: ServiceClient;
  beforeAll(async () => {
    setup = await startRegistryOnServer();
    ({ registry, nc } = setup);
    client = new Svcm(nc).client();
  });
  afterAll(() => setup?.stop());

  it('answers ping and info with its five endpoints, each on its subject in the registry queue group', async () => {
    const pings = await collect(await client.ping('tab-registry'));
    expect(pings).toHaveLength(1);
    const [info] = await collect(await client.info('tab-registry'));
    expect(info!.name).toBe('tab-registry');
    expect(info!.endpoints.map((e) => [e.name, e.subject, e.queue_group]).sort()).toEqual(
      [
        ['tab-close', Subjects.tabClose],
        ['tab-create', Subjects.tabCreate],
        ['tab-read', Subjects.tabRead],
        ['tab-retry', Subjects.tabRetry],
        ['task-teardown', Subjects.taskTeardown],
      ].map(([n, s]) => [n, s, QueueGroups.tabRegistry]),
    );
  });

  it('a bad request gets the {ok:false, error} reply as before, with the micro error header, and is counted in stats', async () => {
    const bad = await nc.request(Subjects.tabCreate, new TextEncoder().encode('{"v":1,"org":"o"}'), { timeout: 2000 });
    expect(decode(TabReplySchema, bad.data, 'reply')).toMatchObject({
      ok: false,
      error: { code: 'invalid_request', retryable: false },
    });
    expect(bad.headers?.get(ServiceErrorCodeHeader)).toBe('400');

    // A well-formed request for a tab that does not exist is an error reply too.
    const missing = await nc.request(
      Subjects.tabRead,
      encode(TabRefRequestSchema, { v: 1, org: 'org-1', task: 'task-1', tab: '01J0000000000000000000TAB1' }, 'req'),
      { timeout: 2000 },
    );
    expect(decode(TabReplySchema, missing.data, 'reply')).toMatchObject({ ok: false, error: { code: 'not_found' } });
    expect(missing.headers?.get(ServiceErrorCodeHeader)).toBe('404');

    const [stats] = await collect(await client.stats('tab-registry'));
    const byName = Object.fromEntries(stats!.endpoints!.map((e) => [e.name, e]));
    expect(byName['tab-create']).toMatchObject({ num_requests: 1, num_errors: 1 });
    expect(byName['tab-create']!.last_error).toContain('invalid_request');
    expect(byName['tab-read']).toMatchObject({ num_requests: 1, num_errors: 1 });
    expect(byName['tab-close']).toMatchObject({ num_requests: 0, num_errors: 0 });
  });

  it('is ready on its ops listener while serving', async () => {
    const res = await fetch(`http://127.0.0.1:${registry.opsPort}/readyz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ ready: true, serving: true });
  });
});
