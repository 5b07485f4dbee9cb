import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import {
  Buckets,
  ProvisionJobSchema,
  parseTabKey,
  SessionJobSchema,
  Subjects,
  TabCreateRequestSchema,
  TabRecordSchema,
  TabRefRequestSchema,
  TabReplySchema,
  TaskProgressRecordSchema,
  TaskRecordSchema,
  TaskRefRequestSchema,
  TaskReplySchema,
} from '@tabmesh/contracts';
import { z } from 'zod';

type Kind = string;
export type Recorded = { subject: string; kind: Kind; ok: boolean; problem?: string };

const requestSchemas: Record<string, { request: z.ZodType; reply: z.ZodType; kind: string }> = {
  [Subjects.tabCreate]: { request: TabCreateRequestSchema, reply: TabReplySchema, kind: 'tab.create' },
  [Subjects.tabClose]: { request: TabRefRequestSchema, reply: TabReplySchema, kind: 'tab.close' },
  [Subjects.tabRetry]: { request: TabRefRequestSchema, reply: TabReplySchema, kind: 'tab.retry' },
  [Subjects.tabRead]: { request: TabRefRequestSchema, reply: TabReplySchema, kind: 'tab.read' },
  [Subjects.taskTeardown]: { request: TaskRefRequestSchema, reply: TaskReplySchema, kind: 'task.teardown' },
};

/**
 * Records every message on the bus (subscribed to `>`) and checks each one that tabmesh owns
 * against its schema in libs/contracts: requests, their replies, stream jobs and KV values.
 */
export class BusRecorder {
  readonly records: Recorded[] = [];
  private readonly pendingReplies = new Map<string, { schema: z.ZodType; kind: string }>();
  private sub: Subscription | null = null;

  constructor(private readonly nc: NatsConnection) {}

  start(): void {
    this.sub = this.nc.subscribe('>', {
      callback: (_err, msg) => {
        // JetStream deliveries keep their stream subject; a headers-only one (kv.keys) or a delete
        // marker has no value to check.
        if (msg.data.length === 0 && (msg.headers?.has('Nats-Msg-Size') || msg.headers?.has('KV-Operation'))) return;
        const kind = this.classify(msg.subject, msg.reply);
        if (!kind) return;
        if (kind.schema === null) {
          this.records.push({ subject: msg.subject, kind: kind.kind, ok: true });
          return;
        }
        let ok = false;
        let problem: string | undefined;
        try {
          const parsed = kind.schema.safeParse(JSON.parse(new TextDecoder().decode(msg.data)));
          ok = parsed.success;
          if (!parsed.success) problem = parsed.error.message;
        } catch (err) {
          problem = String(err);
        }
        this.records.push({ subject: msg.subject, kind: kind.kind, ok, ...(problem ? { problem } : {}) });
      },
    });
  }

  private classify(subject: string, reply: string | undefined): { kind: string; schema: z.ZodType | null } | null {
    const req = requestSchemas[subject];
    if (req) {
      if (reply) this.pendingReplies.set(reply, { schema: req.reply, kind: `${req.kind} reply` });
      return { kind: req.kind, schema: req.request };
    }
    const awaited = this.pendingReplies.get(subject);
    if (awaited) {
      this.pendingReplies.delete(subject);
      return awaited;
    }
    if (subject.startsWith('provision.')) return { kind: 'job provision', schema: ProvisionJobSchema };
    if (subject.startsWith('session.')) return { kind: 'job session', schema: SessionJobSchema };
    if (subject.startsWith(`$KV.${Buckets.tabs}.`)) {
      // `{org}.{task}.{tab}` is a tab, `{org}.{task}` its task's progress entry.
      const key = subject.slice(`$KV.${Buckets.tabs}.`.length);
      return parseTabKey(key)
        ? { kind: 'kv tabs', schema: TabRecordSchema }
        : { kind: 'kv tabs task-progress', schema: TaskProgressRecordSchema };
    }
    if (subject.startsWith(`$KV.${Buckets.tasks}.`)) return { kind: 'kv tasks', schema: TaskRecordSchema };
    if (subject.startsWith(`$KV.${Buckets.tabRequests}.`)) return { kind: 'kv tab-requests', schema: z.string() };
    return null;
  }

  async stop(): Promise<void> {
    await this.nc.flush();
    this.sub?.unsubscribe();
  }

  kinds(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const r of this.records) out[r.kind] = (out[r.kind] ?? 0) + 1;
    return out;
  }

  failures(): Recorded[] {
    return this.records.filter((r) => !r.ok);
  }
}
