import type { ConnectionState } from '@tabmesh/runtime';

export type ReadinessReport = { ready: boolean; nats: boolean; buckets: boolean; watches: Record<string, boolean> };

/**
 * Ready means: connected to NATS, buckets bound and every KV watch consuming. Connection state
 * follows the client's status events, so a killed nats-server turns readiness off at once.
 */
export class Readiness {
  private bucketsBound = false;
  private readonly watches = new Map<string, () => boolean>();

  constructor(private readonly connection: ConnectionState) {}

  markBucketsBound(): void {
    this.bucketsBound = true;
  }

  addWatch(name: string, running: () => boolean): void {
    this.watches.set(name, running);
  }

  /** Whether NATS is reachable right now; requests fail fast with 503 while it is not. */
  natsConnected(): boolean {
    return this.connection.connected();
  }

  report(): ReadinessReport {
    const nats = this.natsConnected();
    const watches = Object.fromEntries([...this.watches].map(([name, running]) => [name, running()]));
    const ready = nats && this.bucketsBound && this.watches.size > 0 && Object.values(watches).every(Boolean);
    return { ready, nats, buckets: this.bucketsBound, watches };
  }
}
