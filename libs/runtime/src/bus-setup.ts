import {
  AckPolicy,
  type ConsumerConfig,
  DeliverPolicy,
  DiscardPolicy,
  type JetStreamClient,
  type JetStreamManager,
  jetstream,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
  type StreamConfig,
} from '@nats-io/jetstream';
import { type KV, Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { Buckets, type BusGrant, SessionPersistNames, SimLedgerBucket, Streams } from '@tabmesh/contracts';
import { type Config, ConfigSchema } from './config.js';
import { isConsumerExists, isStreamNameInUse, isStreamNotFound, isSubjectOverlap } from './error-table.js';

const ms = (n: number): number => n * 1_000_000;

/** The bounds of streams and buckets (README "Limits"); left out, the configuration's defaults. */
export type BusLimits = Pick<
  Config,
  | 'TABMESH_CLOSED_RETENTION_MS'
  | 'TABMESH_PROVISION_QUEUE_MAX_MSGS'
  | 'TABMESH_SESSION_QUEUE_MAX_MSGS'
  | 'TABMESH_QUEUE_MAX_BYTES'
  | 'TABMESH_TABS_MAX_BYTES'
  | 'TABMESH_TASKS_MAX_BYTES'
  | 'TABMESH_TAB_REQUESTS_MAX_BYTES'
  | 'TABMESH_SESSIONS_MAX_AGE_MS'
  | 'TABMESH_SESSION_EVENTS_MAX_BYTES'
  | 'TABMESH_SESSIONS_MAX_BYTES'
>;

export type BusSettings = Pick<
  Config,
  'TABMESH_ACK_WAIT_MS' | 'TABMESH_MAX_DELIVER' | 'TABMESH_DEDUPE_WINDOW_MS' | 'TABMESH_REPLICAS'
> &
  Partial<BusLimits> &
  /** `nats`: also the sim provider's ledger bucket (load and fault tests). */
  Partial<Pick<Config, 'TABMESH_SIM_LEDGER'>>;

/**
 * A clientRequestId key outlives its closed tab by this much: the reaper purges both at retention,
 * and the bucket's age bound only catches what a reaper missed (and the keys of open tabs, whose
 * retried creates past that age are new creates).
 */
export const TabRequestsAgeMarginMs = 3600_000;

/** The session-events stream's dedupe window: the persist driver's, which relies on it. */
const SessionEventsDedupeWindowMs = 120_000;

function limitsOf(settings: BusSettings): BusLimits {
  const defaults = ConfigSchema.parse({});
  const pick = <K extends keyof BusLimits>(k: K): BusLimits[K] => settings[k] ?? defaults[k];
  return {
    TABMESH_CLOSED_RETENTION_MS: pick('TABMESH_CLOSED_RETENTION_MS'),
    TABMESH_PROVISION_QUEUE_MAX_MSGS: pick('TABMESH_PROVISION_QUEUE_MAX_MSGS'),
    TABMESH_SESSION_QUEUE_MAX_MSGS: pick('TABMESH_SESSION_QUEUE_MAX_MSGS'),
    TABMESH_QUEUE_MAX_BYTES: pick('TABMESH_QUEUE_MAX_BYTES'),
    TABMESH_TABS_MAX_BYTES: pick('TABMESH_TABS_MAX_BYTES'),
    TABMESH_TASKS_MAX_BYTES: pick('TABMESH_TASKS_MAX_BYTES'),
    TABMESH_TAB_REQUESTS_MAX_BYTES: pick('TABMESH_TAB_REQUESTS_MAX_BYTES'),
    TABMESH_SESSIONS_MAX_AGE_MS: pick('TABMESH_SESSIONS_MAX_AGE_MS'),
    TABMESH_SESSION_EVENTS_MAX_BYTES: pick('TABMESH_SESSION_EVENTS_MAX_BYTES'),
    TABMESH_SESSIONS_MAX_BYTES: pick('TABMESH_SESSIONS_MAX_BYTES'),
  };
}

export type Bus = {
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  tabs: KV;
  tasks: KV;
  tabRequests: KV;
  sandboxSlots: KV;
  tabSlots: KV;
  /** Sandbox credentials (endpoint, token): only the workers that reach sandboxes may read them. */
  sandboxSecrets: KV;
};

/**
 * A work queue: bounded in messages and bytes, and discard `new`, so a full queue refuses the next
 * publish (the publisher gets an error and says so) rather than dropping the oldest unacked job.
 */
function workQueueConfig(
  s: { name: string; subjects: readonly string[] },
  maxMsgs: number,
  settings: BusSettings,
  limits: BusLimits,
): Partial<StreamConfig> & { name: string } {
  return {
    name: s.name,
    subjects: [...s.subjects],
    retention: RetentionPolicy.Workqueue,
    storage: StorageType.File,
    discard: DiscardPolicy.New,
    max_msgs: maxMsgs,
    max_bytes: limits.TABMESH_QUEUE_MAX_BYTES,
    duplicate_window: ms(settings.TABMESH_DEDUPE_WINDOW_MS),
    num_replicas: settings.TABMESH_REPLICAS,
  };
}

/**
 * The sandbox-agent SDK's session events (written by the persist driver in libs/providers, which
 * creates the stream only when missing): aged out, bounded in bytes, and pruned per session when
 * the tab is purged (closed-reaper).
 */
function sessionEventsConfig(settings: BusSettings, limits: BusLimits): Partial<StreamConfig> & { name: string } {
  return {
    name: SessionPersistNames.stream,
    subjects: [`${SessionPersistNames.subjectPrefix}.>`],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    discard: DiscardPolicy.New,
    max_age: ms(limits.TABMESH_SESSIONS_MAX_AGE_MS),
    max_bytes: limits.TABMESH_SESSION_EVENTS_MAX_BYTES,
    // The server refuses a dedupe window longer than the age bound.
    duplicate_window: ms(Math.min(SessionEventsDedupeWindowMs, limits.TABMESH_SESSIONS_MAX_AGE_MS)),
    num_replicas: settings.TABMESH_REPLICAS,
  };
}

function consumerConfig(name: string, settings: BusSettings): Partial<ConsumerConfig> & { durable_name: string } {
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
    // Another process's set-up made it first; nats-server 2.9 may say so as a subject overlap with
    // the stream of the same name. An overlap with some other stream fails the update instead.
    if (!isStreamNameInUse(err) && !isSubjectOverlap(err)) throw err;
    await jsm.streams.update(config.name, config);
  }
}

async function ensureConsumer(
  jsm: JetStreamManager,
  stream: string,
  config: Partial<ConsumerConfig> & { durable_name: string },
): Promise<void> {
  try {
    await jsm.consumers.add(stream, config);
  } catch (err) {
    if (!isConsumerExists(err)) throw err;
    await jsm.consumers.update(stream, config.durable_name, config);
  }
}

type BucketLimits = { history: number; maxBytes: number; maxAgeMs?: number };

/**
 * Creates or binds a KV bucket with its bounds. `kvm.create` leaves an existing bucket's stream as
 * it is, so a bucket made before the bounds existed (or with other values) is updated to them.
 */
async function ensureBucket(
  kvm: Kvm,
  jsm: JetStreamManager,
  name: string,
  b: BucketLimits,
  replicas: number,
): Promise<KV> {
  const options = {
    history: b.history,
    storage: StorageType.File,
    replicas,
    max_bytes: b.maxBytes,
    ...(b.maxAgeMs ? { ttl: b.maxAgeMs } : {}),
  };
  let kv: KV;
  for (let attempt = 1; ; attempt++) {
    try {
      kv = await kvm.create(name, options);
      break;
    } catch (err) {
      if (!isSubjectOverlap(err) || attempt >= 5) throw err;
      await new Promise((r) => setTimeout(r, 50 * attempt));
    }
  }
  const stream = `KV_${name}`;
  const { config } = await jsm.streams.info(stream);
  const maxAge = b.maxAgeMs ? ms(b.maxAgeMs) : 0;
  if (config.max_bytes !== b.maxBytes || config.max_age !== maxAge) {
    const duplicateWindow = maxAge > 0 ? Math.min(config.duplicate_window, maxAge) : config.duplicate_window;
    await jsm.streams.update(stream, {
      ...config,
      max_bytes: b.maxBytes,
      max_age: maxAge,
      duplicate_window: duplicateWindow,
    });
  }
  return kv;
}

/**
 * Creates or binds the streams, durable consumers and KV buckets: the bus set-up, run as the `setup`
 * identity (only it may create or update streams). Idempotent and safe when several processes run
 * it at once.
 */
export async function ensureBus(nc: NatsConnection, settings: BusSettings): Promise<Bus> {
  const jsm = await jetstreamManager(nc);
  const js = jetstream(nc);
  const limits = limitsOf(settings);
  const queues = [
    [Streams.provision, limits.TABMESH_PROVISION_QUEUE_MAX_MSGS],
    [Streams.sessions, limits.TABMESH_SESSION_QUEUE_MAX_MSGS],
  ] as const;
  for (const [s, maxMsgs] of queues) {
    await ensureStream(jsm, workQueueConfig(s, maxMsgs, settings, limits));
    await ensureConsumer(jsm, s.name, consumerConfig(s.consumer, settings));
  }
  await ensureStream(jsm, sessionEventsConfig(settings, limits));
  const kvm = new Kvm(js);
  const bucket = (name: string, b: BucketLimits) => ensureBucket(kvm, jsm, name, b, settings.TABMESH_REPLICAS);
  const [tabs, tasks, tabRequests, tabSlots, sandboxSlots, sandboxSecrets] = await Promise.all([
    bucket(Buckets.tabs, { history: 16, maxBytes: limits.TABMESH_TABS_MAX_BYTES }),
    bucket(Buckets.tasks, { history: 16, maxBytes: limits.TABMESH_TASKS_MAX_BYTES }),
    bucket(Buckets.tabRequests, {
      history: 1,
      maxBytes: limits.TABMESH_TAB_REQUESTS_MAX_BYTES,
      maxAgeMs: limits.TABMESH_CLOSED_RETENTION_MS + TabRequestsAgeMarginMs,
    }),
    bucket(Buckets.tabSlots, { history: 1, maxBytes: limits.TABMESH_TASKS_MAX_BYTES }),
    // One key, rewritten with compare-and-set: no history needed.
    bucket(Buckets.sandboxSlots, { history: 1, maxBytes: limits.TABMESH_TASKS_MAX_BYTES }),
    bucket(Buckets.sandboxSecrets, { history: 1, maxBytes: limits.TABMESH_TASKS_MAX_BYTES }),
    bucket(SessionPersistNames.bucket, {
      history: 1,
      maxBytes: limits.TABMESH_SESSIONS_MAX_BYTES,
      maxAgeMs: limits.TABMESH_SESSIONS_MAX_AGE_MS,
    }),
    ...(settings.TABMESH_SIM_LEDGER === 'nats'
      ? [bucket(SimLedgerBucket, { history: 1, maxBytes: limits.TABMESH_TASKS_MAX_BYTES })]
      : []),
  ]);
  return { nc, js, jsm, tabs, tasks, tabRequests, tabSlots, sandboxSlots, sandboxSecrets };
}

/** How long a service waits for the bus set-up (another process's) before it gives up. */
export const BusWaitMs = 60_000;

/** The streams a grant reads the state of (`$JS.API.STREAM.INFO.<stream>`): what a service needs to exist. */
export function streamsOf(grant: BusGrant): string[] {
  const pre = '$JS.API.STREAM.INFO.';
  return grant.publish.filter((s) => s.startsWith(pre)).map((s) => s.slice(pre.length));
}

/**
 * Binds the bus without changing it, as a service user does (it may not create streams): bucket
 * handles without a request each, then one stream-info per stream in `needs`, retried while the
 * set-up has not made it yet (up to `waitMs`; the caller logs `onWait`).
 */
export async function bindBus(
  nc: NatsConnection,
  needs: readonly string[],
  opts: { waitMs?: number; onWait?: (missing: string) => void } = {},
): Promise<Bus> {
  const jsm = await jetstreamManager(nc);
  const js = jetstream(nc);
  const kvm = new Kvm(js);
  const deadline = Date.now() + (opts.waitMs ?? BusWaitMs);
  for (const stream of needs) {
    for (let attempt = 1; ; attempt++) {
      try {
        await jsm.streams.info(stream);
        break;
      } catch (err) {
        if (!isStreamNotFound(err) || Date.now() > deadline) throw err;
        if (attempt === 1) opts.onWait?.(stream);
        await new Promise((r) => setTimeout(r, Math.min(1000, 100 * attempt)));
      }
    }
  }
  // Buckets are made with direct get (nats-server 2.9+): reads go to `$JS.API.DIRECT.GET.KV_<b>.<key>`.
  const open = (name: string) => kvm.open(name, { allow_direct: true });
  const [tabs, tasks, tabRequests, tabSlots, sandboxSlots, sandboxSecrets] = await Promise.all([
    open(Buckets.tabs),
    open(Buckets.tasks),
    open(Buckets.tabRequests),
    open(Buckets.tabSlots),
    open(Buckets.sandboxSlots),
    open(Buckets.sandboxSecrets),
  ]);
  return { nc, js, jsm, tabs, tasks, tabRequests, tabSlots, sandboxSlots, sandboxSecrets };
}
