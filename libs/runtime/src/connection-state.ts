import type { NatsConnection } from '@nats-io/transport-node';
import type { Logger } from './logger.js';

/**
 * Whether the connection to NATS is up right now. It follows the client's status events, so a
 * killed nats-server turns readiness off at once instead of at the next request's timeout.
 */
export class ConnectionState {
  private up: boolean;
  private readonly reconnectListeners: Array<() => void> = [];

  constructor(
    private readonly nc: NatsConnection,
    logger: Logger,
  ) {
    this.up = !nc.isClosed();
    void (async () => {
      for await (const s of nc.status()) {
        if (s.type === 'disconnect' || s.type === 'staleConnection' || s.type === 'close') this.up = false;
        else if (s.type === 'reconnect') {
          this.up = true;
          for (const l of this.reconnectListeners) l();
        }
      }
    })().catch((err: unknown) => logger.warn({ err }, 'nats status loop ended'));
  }

  connected(): boolean {
    return this.up && !this.nc.isClosed();
  }

  /** Calls `listener` after every reconnection (the gateway counts them). */
  onReconnect(listener: () => void): void {
    this.reconnectListeners.push(listener);
  }
}
