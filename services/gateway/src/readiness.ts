import type { NatsConnection } from '@nats-io/transport-node';
import type { Logger } from '@tabmesh/runtime';
import type { GatewayMetrics } from './gateway-metrics.js';

export type ReadinessReport = { ready: boolean; nats: boolean; buckets: boolean; watches: Record<string, boolean> };

/**
 * Ready means: connected to NATS, buckets bound and every KV watch consuming. Connection state
 * follows the client's status events, so a killed nats-server turns readiness off at once.
 */
export class Readiness {
  private connected: boolean;
  private bucketsBound = false;
  private readonly watches = new Map<string, () => boolean>();

  constructor(
    private readonly nc: NatsConnection,
    metrics: GatewayMetrics,
    logger: Logger,
  ) {
    this.connected = !nc.isClosed();
    void (async () => {
      for await (const s of nc.status()) {
        if (s.type === 'disconnect' || s.type === 'staleConnection') this.connected = false;
        else if (s.type === 'reconnect') {
          this.connected = true;
          metrics.natsReconnects.inc();
        } else if (s.type === 'close') this.connected = false;
      }
    })().catch((err: unknown) => logger.warn({ err }, 'nats status loop ended'));
  }

  markBucketsBound(): void {
    this.bucketsBound = true;
  }

  addWatch(name: string, running: () => boolean): void {
    this.watches.set(name, running);
  }

  /** Whether NATS is reachable right now; requests fail fast with 503 while it is not. */
  natsConnected(): boolean {
    return this.connected && !this.nc.isClosed();
  }

  report(): ReadinessReport {
    const nats = this.natsConnected();
    const watches = Object.fromEntries([...this.watches].map(([name, running]) => [name, running()]));
    const ready = nats && this.bucketsBound && this.watches.size > 0 && Object.values(watches).every(Boolean);
    return { ready, nats, buckets: this.bucketsBound, watches };
  }
}
