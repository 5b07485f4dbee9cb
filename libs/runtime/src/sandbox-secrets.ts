import type { KV } from '@nats-io/kv';
import { type SandboxRef, SandboxSecretSchema, type SandboxView } from '@tabmesh/contracts';
import { RecentMap } from './recent-map.js';
import { TypedBucket } from './typed-kv.js';

/**
 * KV bucket `sandbox-secrets`: how to reach each sandbox (endpoint, token), by sandbox id, apart
 * from `tasks` so that the gateway, which watches tasks, cannot read a credential (its NATS user has
 * no right on this bucket). The provisioner writes and removes; the session-creator reads.
 */
export class SandboxSecrets {
  private readonly bucket: TypedBucket<typeof SandboxSecretSchema>;
  /**
   * Credentials read or written lately (the last `maxEntries`), by sandbox id: a sandbox's credential never
   * changes, and every session of a task's tabs reaches the same sandbox, so one read serves them all.
   */
  private readonly recent: RecentMap<string, { ref: SandboxRef; at: number }>;
  private readonly reading = new Map<string, Promise<SandboxRef>>();

  constructor(
    kv: KV,
    /** How many credentials seen lately are kept, and how long; null reads the store every time. */
    private readonly cache: { maxEntries: number; ttlMs: number } | null = { maxEntries: 4096, ttlMs: 60_000 },
  ) {
    this.bucket = new TypedBucket(kv, SandboxSecretSchema, 'sandbox secret');
    this.recent = new RecentMap(cache?.maxEntries ?? 0);
  }

  /** Keeps the credential of a sandbox just made (a sandbox's credential never changes). */
  async put(ref: SandboxRef): Promise<void> {
    const { provider, id, endpoint, token } = ref;
    await this.bucket.kv.put(id, JSON.stringify(SandboxSecretSchema.parse({ v: 1, provider, id, endpoint, token })));
    this.remember({ provider, id, endpoint, token });
  }

  /**
   * The sandbox with its credential. One whose credential is gone (destroyed, never recorded) comes
   * back without endpoint or token: a provider finds it unreachable, and can still destroy it by id.
   * `fresh` reads the store even when the credential was seen lately: for the question whether the
   * sandbox is still there, where a credential another process has removed since must not answer.
   */
  async reach(view: SandboxView, opts: { fresh?: boolean } = {}): Promise<SandboxRef> {
    if (!opts.fresh && this.cache) {
      const seen = this.recent.get(view.id);
      if (seen && seen.ref.provider === view.provider && Date.now() - seen.at < this.cache.ttlMs) return seen.ref;
      // The sessions of a task's tabs start together: they share the one read already under way.
      const reading = this.reading.get(readingKey(view));
      if (reading) return reading;
    }
    const key = readingKey(view);
    const read = this.read(view);
    this.reading.set(key, read);
    try {
      return await read;
    } finally {
      if (this.reading.get(key) === read) this.reading.delete(key);
    }
  }

  private async read(view: SandboxView): Promise<SandboxRef> {
    const found = await this.bucket.get(view.id);
    if (found && found.value.provider === view.provider) {
      const { v: _v, ...ref } = found.value;
      this.remember(ref);
      return ref;
    }
    this.recent.delete(view.id);
    return { provider: view.provider, id: view.id, endpoint: null, token: null };
  }

  /** Forgets a destroyed sandbox's credential, history included. */
  async remove(id: string): Promise<void> {
    this.recent.delete(id);
    await this.bucket.erase(id);
  }

  private remember(ref: SandboxRef): void {
    if (this.cache) this.recent.set(ref.id, { ref, at: Date.now() });
  }
}

const readingKey = (view: SandboxView): string => `${view.provider}/${view.id}`;
