import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Buckets, SessionPersistNames, Streams } from '@tabmesh/contracts';
import { NatsServer } from '@tabmesh/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BusSettings, ConfigSchema, ensureBus, TabRequestsAgeMarginMs } from '../src/index.js';

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
    conns = await Promise.all(Array.from({ length: 4 }, () => connect({ servers: server.url, ...server.adminAuth })));
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
    expect(names.sort()).toEqual([
      'KV_sandbox-secrets',
      'KV_sandbox-slots',
      'KV_sessions',
      'KV_tab-requests',
      'KV_tab-slots',
      'KV_tabs',
      'KV_tasks',
      'PROVISION',
      'SESSIONS',
      'SESSION_EVENTS',
    ]);
    expect((await buses[1]!.tabs.status()).history).toBeGreaterThanOrEqual(5);
    expect(Buckets.tabs).toBe('tabs');
  });

  it('updates a consumer whose settings changed instead of failing', async () => {
    const bus = await ensureBus(conns[0]!, { ...settings, TABMESH_ACK_WAIT_MS: 7000 });
    const consumer = await bus.jsm.consumers.info(Streams.provision.name, Streams.provision.consumer);
    expect(consumer.config.ack_wait).toBe(7000 * 1e6);
  });

  it('bounds every stream and bucket as documented (read back from the server), defaults included', async () => {
    const d = ConfigSchema.parse({});
    const jsm = (await ensureBus(conns[0]!, settings)).jsm;
    const cfg = async (name: string) => (await jsm.streams.info(name)).config;
    const nanos = (ms: number) => ms * 1e6;
    for (const [name, maxMsgs] of [
      [Streams.provision.name, d.TABMESH_PROVISION_QUEUE_MAX_MSGS],
      [Streams.sessions.name, d.TABMESH_SESSION_QUEUE_MAX_MSGS],
    ] as const) {
      const c = await cfg(name);
      // A full work queue refuses the next job; it never drops the oldest unacked one.
      expect(c).toMatchObject({
        retention: 'workqueue',
        discard: 'new',
        max_msgs: maxMsgs,
        max_bytes: d.TABMESH_QUEUE_MAX_BYTES,
        max_age: 0,
      });
    }
    expect(await cfg('KV_tabs')).toMatchObject({ max_bytes: d.TABMESH_TABS_MAX_BYTES, max_age: 0, discard: 'new' });
    expect(await cfg('KV_tasks')).toMatchObject({ max_bytes: d.TABMESH_TASKS_MAX_BYTES, max_age: 0 });
    expect(await cfg('KV_tab-slots')).toMatchObject({ max_bytes: d.TABMESH_TASKS_MAX_BYTES, max_msgs_per_subject: 1 });
    expect(await cfg('KV_tab-requests')).toMatchObject({
      max_bytes: d.TABMESH_TAB_REQUESTS_MAX_BYTES,
      max_age: nanos(d.TABMESH_CLOSED_RETENTION_MS + TabRequestsAgeMarginMs),
    });
    expect(await cfg(`KV_${SessionPersistNames.bucket}`)).toMatchObject({
      max_bytes: d.TABMESH_SESSIONS_MAX_BYTES,
      max_age: nanos(d.TABMESH_SESSIONS_MAX_AGE_MS),
    });
    expect(await cfg(SessionPersistNames.stream)).toMatchObject({
      subjects: [`${SessionPersistNames.subjectPrefix}.>`],
      retention: 'limits',
      discard: 'new',
      max_bytes: d.TABMESH_SESSION_EVENTS_MAX_BYTES,
      max_age: nanos(d.TABMESH_SESSIONS_MAX_AGE_MS),
    });
  });

  it('applies changed bounds to streams and buckets that already exist', async () => {
    const bus = await ensureBus(conns[1]!, {
      ...settings,
      TABMESH_PROVISION_QUEUE_MAX_MSGS: 7,
      TABMESH_TABS_MAX_BYTES: 1 << 20,
      TABMESH_CLOSED_RETENTION_MS: 5000,
      TABMESH_SESSIONS_MAX_AGE_MS: 60_000,
    });
    expect((await bus.jsm.streams.info(Streams.provision.name)).config.max_msgs).toBe(7);
    expect((await bus.jsm.streams.info('KV_tabs')).config.max_bytes).toBe(1 << 20);
    expect((await bus.jsm.streams.info('KV_tab-requests')).config.max_age).toBe((5000 + TabRequestsAgeMarginMs) * 1e6);
    expect((await bus.jsm.streams.info('KV_sessions')).config.max_age).toBe(60_000 * 1e6);
    expect((await bus.jsm.streams.info(SessionPersistNames.stream)).config.max_age).toBe(60_000 * 1e6);
  });
});
