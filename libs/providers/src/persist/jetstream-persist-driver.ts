import {
  DeliverPolicy,
  type JetStreamClient,
  type JetStreamManager,
  jetstream,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
} from '@nats-io/jetstream';
import { type KV, Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { kvStream, SessionPersistNames, sessionPersistKey } from '@tabmesh/contracts';
import { isStreamNameInUse, isStreamNotFound } from '@tabmesh/runtime';
import type {
  ListEventsRequest,
  ListPage,
  ListPageRequest,
  SessionEvent,
  SessionPersistDriver,
  SessionRecord,
} from 'sandbox-agent';
import { ErrorCode, ProviderError } from '../errors.js';
import { SessionEventSchema, SessionRecordSchema } from './session-schemas.js';

export { SessionPersistNames };

export type JetStreamPersistOptions = {
  bucket?: string;
  stream?: string;
  subjectPrefix?: string;
  replicas?: number;
  /** Window in which a repeated event index of a session is detected (JetStream dedupe). */
  duplicateWindowMs?: number;
};

const DefaultListLimit = 100;

/** Session ids become KV keys and subject tokens (the one mapping, shared with whoever prunes them). */
export const sessionKey = sessionPersistKey;

/**
 * The SDK treats an insert error matching its SQL unique-index message as "event index taken" and
 * retries with the next index; this error carries that message so JetStream dedupe plays the same role.
 */
export class SessionEventIndexConflictError extends ProviderError {
  override name = 'SessionEventIndexConflictError';
  constructor(sessionId: string, eventIndex: number) {
    super(
      ErrorCode.SessionFailed,
      `UNIQUE constraint failed: session_events.session_id, session_events.event_index (${sessionId}#${eventIndex})`,
      { retryable: true },
    );
  }
}

/**
 * The sandbox-agent SDK's SessionPersistDriver on JetStream: session records in a KV bucket, session
 * events in a stream (one subject per session). Any process with a NATS connection sees the same
 * sessions, so one can resume or destroy what another created, across restarts.
 */
export class JetStreamSessionPersistDriver implements SessionPersistDriver {
  private constructor(
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly kv: KV,
    private readonly stream: string,
    private readonly subjectPrefix: string,
  ) {}

  /** Binds (creating when missing) the bucket and the stream; safe to run from many processes. */
  static async open(nc: NatsConnection, opts: JetStreamPersistOptions = {}): Promise<JetStreamSessionPersistDriver> {
    const bucket = opts.bucket ?? SessionPersistNames.bucket;
    const stream = opts.stream ?? SessionPersistNames.stream;
    const subjectPrefix = opts.subjectPrefix ?? SessionPersistNames.subjectPrefix;
    const replicas = opts.replicas ?? 1;
    const js = jetstream(nc);
    const jsm = await jetstreamManager(nc);
    const config = {
      name: stream,
      subjects: [`${subjectPrefix}.>`],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      num_replicas: replicas,
      duplicate_window: (opts.duplicateWindowMs ?? 120_000) * 1_000_000,
    };
    // The bus set-up (ensureBus, as the `setup` identity) makes both; a service user may only bind.
    // Made here only when missing (a test without the set-up), which needs a user that may create.
    if (!(await exists(jsm, stream))) {
      try {
        await jsm.streams.add(config);
      } catch (err) {
        if (!isStreamNameInUse(err)) throw err;
      }
    }
    const kvm = new Kvm(js);
    const kv = (await exists(jsm, kvStream(bucket)))
      ? await kvm.open(bucket, { allow_direct: true })
      : await kvm.create(bucket, { history: 1, storage: StorageType.File, replicas });
    return new JetStreamSessionPersistDriver(js, jsm, kv, stream, subjectPrefix);
  }

  async getSession(id: string): Promise<SessionRecord | undefined> {
    const entry = await this.kv.get(sessionKey(id));
    if (entry?.operation !== 'PUT') return undefined;
    return SessionRecordSchema.parse(entry.json()) as unknown as SessionRecord;
  }

  /** Sessions ordered by creation time then id, like the SDK's in-memory driver; the cursor is an offset. */
  async listSessions(request: ListPageRequest = {}): Promise<ListPage<SessionRecord>> {
    const records: SessionRecord[] = [];
    for await (const key of await this.kv.keys()) {
      const entry = await this.kv.get(key);
      if (entry?.operation !== 'PUT') continue;
      const parsed = SessionRecordSchema.safeParse(entry.json());
      if (parsed.success) records.push(parsed.data as unknown as SessionRecord);
    }
    records.sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id));
    const offset = Number(request.cursor ?? 0) || 0;
    const limit = request.limit && request.limit > 0 ? request.limit : DefaultListLimit;
    const items = records.slice(offset, offset + limit);
    return offset + limit < records.length ? { items, nextCursor: String(offset + limit) } : { items };
  }

  async updateSession(session: SessionRecord): Promise<void> {
    const record = SessionRecordSchema.parse(JSON.parse(JSON.stringify(session)));
    await this.kv.put(sessionKey(session.id), JSON.stringify(record));
  }

  /** Events of one session in insertion order; the cursor is the next stream sequence. */
  async listEvents(request: ListEventsRequest): Promise<ListPage<SessionEvent>> {
    const limit = request.limit && request.limit > 0 ? request.limit : DefaultListLimit;
    const startSeq = Number(request.cursor ?? 0) || 0;
    const subject = this.subject(request.sessionId);
    const info = await this.jsm.streams.info(this.stream, { subjects_filter: subject });
    if (!info.state.subjects?.[subject]) return { items: [] };
    const consumer = await this.js.consumers.get(this.stream, {
      filter_subjects: subject, // one subject: works on servers before 2.10 too
      ...(startSeq > 0
        ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: startSeq }
        : { deliver_policy: DeliverPolicy.All }),
    });
    const items: SessionEvent[] = [];
    let lastSeq = 0;
    let more = false;
    try {
      const batch = await consumer.fetch({ max_messages: limit, expires: 2000 });
      for await (const msg of batch) {
        items.push(SessionEventSchema.parse(msg.json()) as SessionEvent);
        lastSeq = msg.seq;
        more = msg.info.pending > 0;
        if (items.length >= limit || !more) break;
      }
    } finally {
      await consumer.delete().catch(() => undefined);
    }
    return more ? { items, nextCursor: String(lastSeq + 1) } : { items };
  }

  async insertEvent(sessionId: string, event: SessionEvent): Promise<void> {
    const parsed = SessionEventSchema.parse(JSON.parse(JSON.stringify(event)));
    const ack = await this.js.publish(this.subject(sessionId), JSON.stringify(parsed), {
      msgID: `${sessionKey(sessionId)}.${parsed.eventIndex}`,
    });
    if (ack.duplicate) throw new SessionEventIndexConflictError(sessionId, parsed.eventIndex);
  }

  private subject(sessionId: string): string {
    return `${this.subjectPrefix}.${sessionKey(sessionId)}`;
  }
}

/** Whether a stream exists (a stream-info, which a service user may ask for). */
export async function exists(jsm: JetStreamManager, stream: string): Promise<boolean> {
  try {
    await jsm.streams.info(stream);
    return true;
  } catch (err) {
    if (isStreamNotFound(err)) return false;
    throw err;
  }
}
