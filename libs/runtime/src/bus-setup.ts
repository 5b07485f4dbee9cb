import type { NatsConnection } from '@nats-io/transport-node';
import {
  AckPolicy,
  DeliverPolicy,
  DiscardPolicy,
  RetentionPolicy,
  StorageType,
  jetstream,
  jetstreamManager,
  type ConsumerConfig,
  type JetStreamClient,
  type JetStreamManager,
  type StreamConfig,
} from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import { Buckets, Streams } from '@tabmesh/contracts';
import type { Config } from './config.js';
import { isConsumerExists, isStreamNameInUse } from './error-table.js';

const ms = (n: number): number => n * 1_000_000;

export type BusSettings = Pick<
  Config,
  'TABMESH_ACK_WAIT_MS' | 'TABMESH_MAX_DELIVER' | 'TABMESH_DEDUPE_WINDOW_MS' | 'TABMESH_REPLICAS'
>;

export type Bus = {
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  tabs: KV;
  tasks: KV;
  tabRequests: KV;
  sandboxSlots: KV;
};

function streamConfig(s: { name: string; subjects: readonly string[] }, settings: BusSettings): Partial<StreamConfig> & { name: string } {
  return {
    name: s.name,
    subjects: [...s.subjects],
    retention: RetentionPolicy.Workqueue,
    storage: StorageType.File,
    discard: DiscardPolicy.Old,
    duplicate_window: ms(settings.TABMESH_DEDUPE_WINDOW_MS),
    num_replicas: settings.TABMESH_REPLICAS,
  };
}

function consumerConfig(name: string, settings: BusSettings): Partial<ConsumerConfig> {
  return {
    durable_name: name,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ack_wait: ms(settings.TABMESH_ACK_WAIT_MS),
    // One more than the job's own budget: the last delivery is the one that records the terminal error.
    max_deliver: settings.TABMESH_MAX_DELIVER + 1,
    max_ack_pending: 10_000,
  };
}

async function ensureStream(jsm: JetStreamManager, config: Partial<StreamConfig> & { name: string }): Promise<void> {
  try {
    await jsm.streams.add(config);
  } catch (err) {
    if (!isStreamNameInUse(err)) throw err;
    await jsm.streams.update(config.name, config);
  }
}

async function ensureConsumer(jsm: JetStreamManager, stream: string, config: Partial<ConsumerConfig>): Promise<void> {
  try {
    await jsm.consumers.add(stream, config);
  } catch (err) {
    if (!isConsumerExists(err)) throw err;
    await jsm.consumers.update(stream, config.durable_name!, config);
  }
}

/**
 * Creates or binds the streams, durable consumers and KV buckets. Every service runs it at start;
 * it is idempotent and safe when several processes run it at once.
 */
export async function ensureBus(nc: NatsConnection, settings: BusSettings): Promise<Bus> {
  const jsm = await jetstreamManager(nc);
  const js = jetstream(nc);
  for (const s of [Streams.provision, Streams.sessions]) {
    await ensureStream(jsm, streamConfig(s, settings));
    await ensureConsumer(jsm, s.name, consumerConfig(s.consumer, settings));
  }
  const kvm = new Kvm(js);
  const bucket = (name: string, history: number) =>
    kvm.create(name, { history, storage: StorageType.File, replicas: settings.TABMESH_REPLICAS });
  const [tabs, tasks, tabRequests, sandboxSlots] = await Promise.all([
    bucket(Buckets.tabs, 16),
    bucket(Buckets.tasks, 16),
    bucket(Buckets.tabRequests, 1),
    // One key, rewritten with compare-and-set: no history needed.
    bucket(Buckets.sandboxSlots, 1),
  ]);
  return { nc, js, jsm, tabs, tasks, tabRequests, sandboxSlots };
}
