import type { KV } from '@nats-io/kv';
import { type SandboxRef, SandboxSecretSchema, type SandboxView } from '@tabmesh/contracts';
import { TypedBucket } from './typed-kv.js';

/**
 * KV bucket `sandbox-secrets`: how to reach each sandbox (endpoint, token), by sandbox id, apart
 * from `tasks` so that the gateway, which watches tasks, cannot read a credential (its NATS user has
 * no right on this bucket). The provisioner writes and removes; the session-creator reads.
 */
export class SandboxSecrets {
  private readonly bucket: TypedBucket<typeof SandboxSecretSchema>;

  constructor(kv: KV) {
    this.bucket = new TypedBucket(kv, SandboxSecretSchema, 'sandbox secret');
  }

  /** Keeps the credential of a sandbox just made (a sandbox's credential never changes). */
  async put(ref: SandboxRef): Promise<void> {
    const { provider, id, endpoint, token } = ref;
    await this.bucket.kv.put(id, JSON.stringify(SandboxSecretSchema.parse({ v: 1, provider, id, endpoint, token })));
  }

  /**
   * The sandbox with its credential. One whose credential is gone (destroyed, never recorded) comes
   * back without endpoint or token: a provider finds it unreachable, and can still destroy it by id.
   */
  async reach(view: SandboxView): Promise<SandboxRef> {
    const found = await this.bucket.get(view.id);
    if (found && found.value.provider === view.provider) {
      const { v: _v, ...ref } = found.value;
      return ref;
    }
    return { provider: view.provider, id: view.id, endpoint: null, token: null };
  }

  /** Forgets a destroyed sandbox's credential, history included. */
  async remove(id: string): Promise<void> {
    await this.bucket.erase(id);
  }
}
