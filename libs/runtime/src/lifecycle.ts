import type { NatsConnection } from '@nats-io/transport-node';
import type { Logger } from 'pino';

/** A running service: `stop` is graceful and idempotent. */
export type ServiceHandle = { stop: () => Promise<void> };

/**
 * Runs `stop` once on SIGTERM or SIGINT, then exits; a second signal exits at once. Given the start still under
 * way, so a signal that comes right after the ready announcement (made inside the start) still
 * drains instead of killing the process.
 */
export function stopOnSignals(handle: ServiceHandle | Promise<ServiceHandle>, logger: Logger): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(1);
    stopping = true;
    logger.info({ signal }, 'stopping');
    Promise.resolve(handle)
      .then((h) => h.stop())
      .then(
        () => {
          logger.info('stopped');
          process.exit(0);
        },
        (err: unknown) => {
          logger.error({ err }, 'stop failed');
          process.exit(1);
        },
      );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

/** Drains a connection, tolerating one that is already closed. */
export async function drainConnection(nc: NatsConnection): Promise<void> {
  if (nc.isClosed()) return;
  try {
    await nc.drain();
  } catch {
    await nc.close();
  }
}
