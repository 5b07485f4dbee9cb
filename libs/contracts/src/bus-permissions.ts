import { Buckets, kvStream, kvSubjectPrefix, SessionPersistNames, SimLedgerBucket, Streams, Subjects } from './bus.js';
import { ServiceName } from './services.js';

/**
 * Who may do what on the bus (DESIGN.md Access, "Bus"): one NATS user per service kind plus `setup`,
 * the only identity that creates or updates streams, buckets and consumers. Every subject below is
 * built from the names in bus.ts and JetStream's own API layout; nothing is granted that the
 * service's code does not use. nats-server configs (`pnpm start`, the tests, `deploy/`) are rendered
 * from this table (libs/runtime `renderNatsServerConfig`).
 */
export const BusIdentity = {
  Gateway: ServiceName.Gateway,
  TabRegistry: ServiceName.TabRegistry,
  Provisioner: ServiceName.Provisioner,
  SessionCreator: ServiceName.SessionCreator,
  Setup: 'setup',
} as const;
export type BusIdentity = (typeof BusIdentity)[keyof typeof BusIdentity];
export const BusIdentities = Object.values(BusIdentity) as [BusIdentity, ...BusIdentity[]];
/** The identities services run as (all but `setup`). */
export const ServiceIdentities = BusIdentities.filter((i) => i !== BusIdentity.Setup);

/** What one identity may publish and subscribe to. */
export type BusGrant = {
  publish: string[];
  /** Refused even where `publish` allows them. */
  publishDeny?: string[];
  subscribe: string[];
};

/**
 * The inbox prefix of an identity: replies, JetStream API answers and pushed KV watch messages come
 * to `_INBOX.<identity>.…`, so one user cannot subscribe to another's replies (connectNats sets it).
 */
export const inboxPrefix = (identity: string): string => `_INBOX.${identity}`;

const api = '$JS.API';

/** Grants, each one thing a piece of code does; an identity's allow-lists are their union. */
const g = {
  inbox: (identity: string): BusGrant => ({ publish: [], subscribe: [`${inboxPrefix(identity)}.>`] }),
  /** `jetstreamManager(nc)` asks for the account info first. */
  jsInfo: (): BusGrant => ({ publish: [`${api}.INFO`], subscribe: [] }),
  /** `tab.*` and `task.teardown` requests. */
  requestTabs: (): BusGrant => ({ publish: Object.values(Subjects), subscribe: [] }),
  /**
   * Serving them with @nats-io/services (queue group endpoints, `$SRV` discovery and stats). A reply
   * goes to the asker's inbox, the gateway's or an operator's, and never into a worker's or the
   * set-up's, so none of their answers can be forged. Not `allow_responses`: nats-server then tracks
   * every message delivered to the user with a reply subject (each KV watch message has one) until it
   * expires, and with the registry's watches that was most of nats-server's CPU, growing with the
   * rate (docs/bench/README.md, sixth round).
   */
  serveTabs: (): BusGrant => ({
    publish: ['_INBOX.>'],
    publishDeny: [BusIdentity.Provisioner, BusIdentity.SessionCreator, BusIdentity.Setup].map(
      (identity) => `${inboxPrefix(identity)}.>`,
    ),
    subscribe: [...Object.values(Subjects), '$SRV.>'],
  }),
  /** Publishing jobs (the ack comes back to the inbox). */
  publishJobs: (stream: { subjects: readonly string[] }): BusGrant => ({
    publish: [...stream.subjects],
    subscribe: [],
  }),
  /** Stream state: `kv.status()`, keys by subjects filter, queue depth. */
  streamInfo: (stream: string): BusGrant => ({ publish: [`${api}.STREAM.INFO.${stream}`], subscribe: [] }),
  /** A message by sequence or last by subject (queue position). */
  streamGet: (stream: string): BusGrant => ({ publish: [`${api}.STREAM.MSG.GET.${stream}`], subscribe: [] }),
  /** Purging subjects of a stream (erasing KV keys, pruning session records). */
  streamPurge: (stream: string): BusGrant => ({ publish: [`${api}.STREAM.PURGE.${stream}`], subscribe: [] }),
  /** Pulling from the durable consumer of a work queue, acking, and reading its state. */
  workConsumer: (stream: { name: string; consumer: string }): BusGrant => ({
    publish: [
      `${api}.CONSUMER.INFO.${stream.name}.${stream.consumer}`,
      `${api}.CONSUMER.MSG.NEXT.${stream.name}.${stream.consumer}`,
      `$JS.ACK.${stream.name}.${stream.consumer}.>`,
    ],
    subscribe: [],
  }),
  /** Reading a durable consumer's state without consuming (queue observer). */
  consumerInfo: (stream: { name: string; consumer: string }): BusGrant => ({
    publish: [`${api}.CONSUMER.INFO.${stream.name}.${stream.consumer}`],
    subscribe: [],
  }),
  /**
   * Ephemeral (ordered) consumers on a stream: KV watches and key listings, reading session events.
   * Only the named-consumer create form (`CONSUMER.CREATE.<stream>.<name>[.<filter>]`), never the
   * durable one, so no service can redefine a durable consumer.
   */
  ephemeralConsumers: (stream: string): BusGrant => ({
    publish: [
      `${api}.CONSUMER.CREATE.${stream}.>`,
      `${api}.CONSUMER.INFO.${stream}.*`,
      `${api}.CONSUMER.DELETE.${stream}.*`,
      `${api}.CONSUMER.MSG.NEXT.${stream}.*`,
      // Flow-control replies of pushed watches.
      `$JS.FC.${stream}.>`,
    ],
    subscribe: [],
  }),
  kvRead: (bucket: string): BusGrant => ({
    publish: [`${api}.DIRECT.GET.${kvStream(bucket)}.>`, `${api}.STREAM.INFO.${kvStream(bucket)}`],
    subscribe: [],
  }),
  kvWatch: (bucket: string): BusGrant => g.ephemeralConsumers(kvStream(bucket)),
  kvWrite: (bucket: string): BusGrant => ({ publish: [`${kvSubjectPrefix(bucket)}.>`], subscribe: [] }),
  /** Removing a key's whole history (a purge by subject). */
  kvErase: (bucket: string): BusGrant => g.streamPurge(kvStream(bucket)),
  /** The sandbox-agent SDK's session records and events (the persist driver in libs/providers). */
  sessionPersist: (): BusGrant =>
    merge(
      g.kvRead(SessionPersistNames.bucket),
      g.kvWatch(SessionPersistNames.bucket),
      g.kvWrite(SessionPersistNames.bucket),
      { publish: [`${SessionPersistNames.subjectPrefix}.>`], subscribe: [] },
      g.streamInfo(SessionPersistNames.stream),
      g.ephemeralConsumers(SessionPersistNames.stream),
    ),
};

function merge(...grants: BusGrant[]): BusGrant {
  const out: BusGrant = { publish: [], subscribe: [] };
  for (const x of grants) {
    out.publish.push(...x.publish.filter((s) => !out.publish.includes(s)));
    out.subscribe.push(...x.subscribe.filter((s) => !out.subscribe.includes(s)));
    if (x.publishDeny)
      out.publishDeny = [...(out.publishDeny ?? []), ...x.publishDeny.filter((s) => !out.publishDeny?.includes(s))];
  }
  return out;
}

const rw = (bucket: string): BusGrant => merge(g.kvRead(bucket), g.kvWrite(bucket));

/** Every stream the mesh has, KV streams included: what `setup` manages. */
export const AllStreams: readonly string[] = [
  Streams.provision.name,
  Streams.sessions.name,
  SessionPersistNames.stream,
  ...[...Object.values(Buckets), SessionPersistNames.bucket, SimLedgerBucket].map(kvStream),
];

/**
 * The allow-lists, by identity. Anything not listed is denied; nothing is anonymous.
 * - gateway: asks tab-registry (`tab.*`, `task.teardown`), reads and watches `tabs` and `tasks`
 *   (which carry no credential); no job subjects, no writes, no other bucket.
 * - tab-registry: serves the requests; writes tabs, tasks, tab-requests, tab-slots; publishes jobs;
 *   reads the queues' state; prunes a purged tab's session records. No sandbox secret.
 * - provisioner: consumes PROVISION; writes tasks, tabs, sandbox-slots and sandbox-secrets;
 *   publishes the jobs that follow; the session persist driver.
 * - session-creator: consumes SESSIONS; writes tabs and tasks (lost sandbox); watches tasks (which
 *   sandbox each holds); reads sandbox-secrets; publishes the jobs that follow; the session persist driver.
 * - setup: creates and updates the streams, buckets and durable consumers (ensureBus), nothing else.
 */
/**
 * What both worker kinds hold: their inbox, their queue's consumer, tabs and tasks read and written,
 * the jobs that follow a step, and the session persist driver.
 */
function worker(identity: BusIdentity, stream: { name: string; consumer: string }): BusGrant {
  return merge(
    g.inbox(identity),
    g.jsInfo(),
    g.workConsumer(stream),
    rw(Buckets.tabs),
    rw(Buckets.tasks),
    // A task's open tabs are found from its slot set (TabStore.listOpen).
    g.kvRead(Buckets.tabSlots),
    g.publishJobs(Streams.provision),
    g.publishJobs(Streams.sessions),
    g.sessionPersist(),
  );
}

export const BusPermissions: Record<BusIdentity, BusGrant> = {
  gateway: merge(
    g.inbox(BusIdentity.Gateway),
    g.jsInfo(),
    g.requestTabs(),
    g.kvRead(Buckets.tabs),
    g.kvWatch(Buckets.tabs),
    g.kvRead(Buckets.tasks),
    g.kvWatch(Buckets.tasks),
  ),
  'tab-registry': merge(
    g.inbox(BusIdentity.TabRegistry),
    g.jsInfo(),
    g.serveTabs(),
    rw(Buckets.tabs),
    g.kvWatch(Buckets.tabs),
    g.kvErase(Buckets.tabs),
    rw(Buckets.tasks),
    g.kvWatch(Buckets.tasks),
    rw(Buckets.tabRequests),
    g.kvErase(Buckets.tabRequests),
    rw(Buckets.tabSlots),
    g.publishJobs(Streams.provision),
    g.publishJobs(Streams.sessions),
    g.consumerInfo(Streams.provision),
    g.consumerInfo(Streams.sessions),
    g.streamInfo(Streams.provision.name),
    g.streamInfo(Streams.sessions.name),
    g.streamGet(Streams.provision.name),
    g.streamGet(Streams.sessions.name),
    g.streamPurge(kvStream(SessionPersistNames.bucket)),
    g.streamPurge(SessionPersistNames.stream),
  ),
  provisioner: merge(
    worker(BusIdentity.Provisioner, Streams.provision),
    g.kvWatch(Buckets.tasks),
    rw(Buckets.sandboxSlots),
    rw(Buckets.sandboxSecrets),
    g.kvErase(Buckets.sandboxSecrets),
  ),
  'session-creator': merge(
    worker(BusIdentity.SessionCreator, Streams.sessions),
    g.kvWatch(Buckets.tasks),
    g.kvRead(Buckets.sandboxSecrets),
  ),
  setup: merge(g.inbox(BusIdentity.Setup), g.jsInfo(), {
    publish: AllStreams.flatMap((s) => [
      `${api}.STREAM.CREATE.${s}`,
      `${api}.STREAM.UPDATE.${s}`,
      `${api}.STREAM.INFO.${s}`,
    ]).concat(
      [Streams.provision, Streams.sessions].flatMap((s) => [
        `${api}.CONSUMER.CREATE.${s.name}.${s.consumer}`,
        `${api}.CONSUMER.CREATE.${s.name}.${s.consumer}.>`,
        `${api}.CONSUMER.DURABLE.CREATE.${s.name}.${s.consumer}`,
        `${api}.CONSUMER.INFO.${s.name}.${s.consumer}`,
      ]),
    ),
    subscribe: [],
  }),
};

/**
 * What the sim provider's ledger (load and fault tests only) adds to the workers: read, write and
 * list `sim-ledger`. Test servers and the deploy configs grant it, since both may run `sim`.
 */
export const SimLedgerGrant: BusGrant = merge(rw(SimLedgerBucket), g.kvWatch(SimLedgerBucket));

/** Grants combined, for callers that add to an identity (tests). */
export const mergeGrants = merge;
