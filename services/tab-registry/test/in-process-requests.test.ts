import { Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { Subjects, TabReplySchema, TabState } from '@tabmesh/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TabRegistryHandle } from '../src/index.js';
import { type RegistryOnServer, startRegistryOnServer } from './support/registry-on-server.js';

/** The registry's requests for a gateway in the same process (the mesh host): the bus path's answers, without the bus. */
describe('tab-registry requests in process', () => {
  let setup: RegistryOnServer;
  let registry: TabRegistryHandle;
  let nc: NatsConnection;
  beforeAll(async () => {
    setup = await startRegistryOnServer();
    ({ registry, nc } = setup);
  });
  afterAll(() => setup?.stop());

  const tabKeys = async () => {
    const kv = await new Kvm(nc).open('tabs');
    const keys: string[] = [];
    for await (const k of await kv.keys()) keys.push(k);
    return keys;
  };

  it('creates and closes a tab as tab.create and tab.close over the bus do', async () => {
    const { inProcess } = registry;
    expect(inProcess.serves(Subjects.tabCreate)).toBe(true);
    expect(inProcess.serves('tab.unknown')).toBe(false);
    const created = TabReplySchema.parse(
      await inProcess.request(Subjects.tabCreate, { v: 1, org: 'inproc', task: 't1', title: 'here' }, 'corr-1'),
    );
    if (!created.ok) throw new Error(created.error.message);
    expect(created.tab).toMatchObject({ org: 'inproc', task: 't1', title: 'here', state: TabState.PendingProvision });
    expect(await tabKeys()).toContain(`inproc.t1.${created.tab.id}`);
    const closed = TabReplySchema.parse(
      await inProcess.request(Subjects.tabClose, { v: 1, org: 'inproc', task: 't1', tab: created.tab.id }, 'corr-2'),
    );
    expect(closed).toMatchObject({ ok: true, tab: { id: created.tab.id, state: TabState.Closed } });
  });

  it('answers a bad request with the invalid_request reply, and stores nothing', async () => {
    const before = await tabKeys();
    const reply = TabReplySchema.parse(
      await registry.inProcess.request(Subjects.tabCreate, { v: 1, org: 'bad org!', task: 't1' }, 'corr-3'),
    );
    expect(reply).toMatchObject({ ok: false, error: { code: 'invalid_request', retryable: false } });
    expect(await tabKeys()).toEqual(before);
    const missing = TabReplySchema.parse(
      await registry.inProcess.request(
        Subjects.tabRead,
        { v: 1, org: 'inproc', task: 't1', tab: '01J0000000000000000000TAB1' },
        'corr-4',
      ),
    );
    expect(missing).toMatchObject({ ok: false, error: { code: 'not_found' } });
  });

  it('stops answering when the registry stops, so the gateway goes back to the bus', async () => {
    const other = await setup.startAnother();
    await other.stop();
    expect(other.inProcess.serves(Subjects.tabCreate)).toBe(false);
    await expect(
      other.inProcess.request(Subjects.tabCreate, { v: 1, org: 'inproc', task: 't2' }, 'corr-5'),
    ).rejects.toThrow('not served here');
  });
});
