import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NatsServer } from '@tabmesh/testkit';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Buckets, Streams } from '@tabmesh/contracts';
import { ensureBus, type BusSettings } from '../src/index.js';

const settings: BusSettings = {
  TABMESH_ACK_WAIT_MS: 5000,
  TABMESH_MAX_DELIVER: 3,
  TABMESH_DEDUPE_WINDOW_MS: 60_000,
  TABMESH_REPLICAS: 1,
};

describe('bus setup', () => {
  let server: NatsServer;
  let conns: NatsConnection[] = [];
  beforeAll(async () => {
    server = await NatsServer.start();
    conns = await Promise.all(Array.from({ length: 4 }, () => connect({ servers: server.url })));
  });
  afterAll(async () => {
    await Promise.all(conns.map((c) => c.close()));
    await server.stop();
  });

  it('creates streams, consumers and buckets once when several processes start at the same time', async () => {
    const buses = await Promise.all(conns.map((nc) => ensureBus(nc, settings)));
    const jsm = buses[0]!.jsm;
    const provision = await jsm.streams.info(Streams.provision.name);
    expect(provision.config.retention).toBe('workqueue');
    expect(provision.config.storage).toBe('file');
    expect(provision.config.duplicate_window).toBe(60_000 * 1e6);
    const consumer = await jsm.consumers.info(Streams.sessions.name, Streams.sessions.consumer);
    expect(consumer.config.ack_policy).toBe('explicit');
    expect(consumer.config.ack_wait).toBe(5000 * 1e6);
    expect(consumer.config.max_deliver).toBe(4);
    const names: string[] = [];
    for await (const s of jsm.streams.list()) names.push(s.config.name);
    expect(names.sort()).toEqual(['KV_sandbox-slots', 'KV_tab-requests', 'KV_tabs', 'KV_tasks', 'PROVISION', 'SESSIONS']);
    expect((await buses[1]!.tabs.status()).history).toBeGreaterThanOrEqual(5);
    expect(Buckets.tabs).toBe('tabs');
  });

  it('updates a consumer whose settings changed instead of failing', async () => {
    const bus = await ensureBus(conns[0]!, { ...settings, TABMESH_ACK_WAIT_MS: 7000 });
    const consumer = await bus.jsm.consumers.info(Streams.provision.name, Streams.provision.consumer);
    expect(consumer.config.ack_wait).toBe(7000 * 1e6);
  });
});
