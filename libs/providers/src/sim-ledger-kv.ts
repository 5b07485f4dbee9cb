import { jetstream, jetstreamManager, StorageType } from '@nats-io/jetstream';
import { type KV, Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { kvStream, SimLedgerBucket, WriteConflictError } from '@tabmesh/contracts';
import { isWrongLastSequence } from '@tabmesh/runtime';
import { z } from 'zod';
import { exists } from './persist/jetstream-persist-driver.js';

export { SimLedgerBucket };

const SandboxEntrySchema = z.object({
  v: z.literal(1),
  org: z.string(),
  task: z.string(),
  generation: z.number().int(),
  live: z.boolean(),
});
const SessionEntrySchema = z.object({
  v: z.literal(1),
  sandboxId: z.string(),
  tab: z.string(),
  attempt: z.number().int(),
  live: z.boolean(),
});
export type SimSandboxEntry = z.infer<typeof SandboxEntrySchema> & { id: string };
export type SimSessionEntry = z.infer<typeof SessionEntrySchema> & { id: string };

const sandboxKey = (id: string): string => `sandbox.${id}`;
const sessionKey = (sandboxId: string, sessionId: string): string => `session.${sandboxId}.${sessionId}`;

const encodeJson = (v: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(v));
const decodeJson = (d: Uint8Array): unknown => JSON.parse(new TextDecoder().decode(d));

/**
 * What the sim backend holds, in NATS KV instead of one process's memory, so load and fault tests
 * that run the services as separate processes (and SIGKILL them) can count the live sandboxes of a
 * task and the live sessions of a tab. Every write is compare-and-set.
 */
export class SimKvLedger {
  private constructor(readonly kv: KV) {}

  /** Binds the `sim-ledger` bucket (the bus set-up makes it with TABMESH_SIM_LEDGER=nats), creating it when missing. */
  static async open(nc: NatsConnection, opts: { replicas?: number } = {}): Promise<SimKvLedger> {
    const js = jetstream(nc);
    const kvm = new Kvm(js);
    const kv = (await exists(await jetstreamManager(nc), kvStream(SimLedgerBucket)))
      ? await kvm.open(SimLedgerBucket, { allow_direct: true })
      : await kvm.create(SimLedgerBucket, { history: 1, storage: StorageType.File, replicas: opts.replicas ?? 1 });
    return new SimKvLedger(kv);
  }

  private async read<S extends z.ZodType>(
    key: string,
    schema: S,
  ): Promise<{ value: z.infer<S>; revision: number } | null> {
    const e = await this.kv.get(key);
    if (e?.operation !== 'PUT' || e.length === 0) return null;
    return { value: schema.parse(decodeJson(e.value)), revision: e.revision };
  }

  /** Read, decide, compare-and-set, retry on conflict; `change` returns null to leave it. */
  private async mutate<S extends z.ZodType>(
    key: string,
    schema: S,
    change: (cur: z.infer<S> | null) => z.infer<S> | null,
  ): Promise<z.infer<S> | null> {
    for (let i = 0; i < 50; i++) {
      const cur = await this.read(key, schema);
      const next = change(cur?.value ?? null);
      if (next === null) return cur?.value ?? null;
      try {
        if (cur) await this.kv.update(key, encodeJson(next), cur.revision);
        else await this.kv.create(key, encodeJson(next));
        return next;
      } catch (err) {
        if (!isWrongLastSequence(err)) throw err;
      }
    }
    throw new WriteConflictError(`sim ledger ${key}`, 50);
  }

  async sandbox(id: string): Promise<SimSandboxEntry | null> {
    const e = await this.read(sandboxKey(id), SandboxEntrySchema);
    return e ? { ...e.value, id } : null;
  }

  /** Records a live sandbox; one already live is kept as it is. */
  async putSandbox(id: string, where: { org: string; task: string; generation: number }): Promise<void> {
    await this.mutate(sandboxKey(id), SandboxEntrySchema, (cur) =>
      cur?.live ? null : { v: 1 as const, ...where, live: true },
    );
  }

  /** Marks the sandbox and every session in it dead. */
  async destroySandbox(id: string): Promise<void> {
    await this.mutate(sandboxKey(id), SandboxEntrySchema, (cur) => (cur?.live ? { ...cur, live: false } : null));
    for (const key of await this.keys(`session.${id}.*`)) {
      await this.mutate(key, SessionEntrySchema, (cur) => (cur?.live ? { ...cur, live: false } : null));
    }
  }

  async session(sandboxId: string, sessionId: string): Promise<SimSessionEntry | null> {
    const e = await this.read(sessionKey(sandboxId, sessionId), SessionEntrySchema);
    return e ? { ...e.value, id: sessionId } : null;
  }

  /** Records a live session; returns false when it was already live (an idempotent repeat). */
  async putSession(sandboxId: string, sessionId: string, of: { tab: string; attempt: number }): Promise<boolean> {
    let created = false;
    await this.mutate(sessionKey(sandboxId, sessionId), SessionEntrySchema, (cur) => {
      created = !cur?.live;
      return cur?.live ? null : { v: 1 as const, sandboxId, ...of, live: true };
    });
    return created;
  }

  async destroySession(sandboxId: string, sessionId: string): Promise<void> {
    await this.mutate(sessionKey(sandboxId, sessionId), SessionEntrySchema, (cur) =>
      cur?.live ? { ...cur, live: false } : null,
    );
  }

  private async keys(filter: string): Promise<string[]> {
    const out: string[] = [];
    for await (const k of await this.kv.keys(filter)) out.push(k);
    return out;
  }

  /** Every sandbox and session the ledger holds, live or not. */
  async snapshot(): Promise<{ sandboxes: SimSandboxEntry[]; sessions: SimSessionEntry[] }> {
    const sandboxes: SimSandboxEntry[] = [];
    const sessions: SimSessionEntry[] = [];
    const keys = await this.keys('>');
    for (let i = 0; i < keys.length; i += 200) {
      await Promise.all(
        keys.slice(i, i + 200).map(async (key) => {
          const [kind, sandboxId, sessionId] = key.split('.') as [string, string, string | undefined];
          if (kind === 'sandbox') {
            const s = await this.sandbox(sandboxId);
            if (s) sandboxes.push(s);
          } else if (kind === 'session' && sessionId) {
            const s = await this.session(sandboxId, sessionId);
            if (s) sessions.push(s);
          }
        }),
      );
    }
    return { sandboxes, sessions };
  }

  async liveSandboxes(org: string, task: string): Promise<number> {
    const ids = await this.keys(`sandbox.>`);
    const entries = await Promise.all(ids.map((k) => this.sandbox(k.slice('sandbox.'.length))));
    return entries.filter((s) => s && s.org === org && s.task === task && s.live).length;
  }

  async liveSessionsOfTab(tab: string): Promise<number> {
    const { sessions } = await this.snapshot();
    return sessions.filter((s) => s.tab === tab && s.live).length;
  }
}

/** Live sandboxes per `org.task` and live sessions per tab, from one snapshot. */
export function countLive(snapshot: { sandboxes: SimSandboxEntry[]; sessions: SimSessionEntry[] }): {
  sandboxesByTask: Map<string, number>;
  sessionsByTab: Map<string, number>;
} {
  const sandboxesByTask = new Map<string, number>();
  for (const s of snapshot.sandboxes) {
    if (s.live) sandboxesByTask.set(`${s.org}.${s.task}`, (sandboxesByTask.get(`${s.org}.${s.task}`) ?? 0) + 1);
  }
  const sessionsByTab = new Map<string, number>();
  for (const s of snapshot.sessions) if (s.live) sessionsByTab.set(s.tab, (sessionsByTab.get(s.tab) ?? 0) + 1);
  return { sandboxesByTask, sessionsByTab };
}
