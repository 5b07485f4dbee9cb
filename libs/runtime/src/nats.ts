import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { Logger } from 'pino';

/**
 * Connects with unbounded reconnects, so a service rides out a nats-server restart by itself,
 * and logs every status change.
 */
export async function connectNats(url: string, name: string, logger: Logger): Promise<NatsConnection> {
  const nc = await connect({
    servers: url.split(','),
    name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    reconnectJitter: 250,
    pingInterval: 10_000,
    waitOnFirstConnect: true,
    // nats.js otherwise builds two Error objects (stack traces included) for every request, to
    // improve the stack of a failure: on the create path that was ~10% of tab-registry's CPU.
    noAsyncTraces: true,
  });
  logger.info({ server: nc.getServer() }, 'nats connected');
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect' || s.type === 'reconnect') logger.warn({ status: s }, `nats ${s.type}`);
      else if (s.type === 'error') logger.error({ status: s }, 'nats error');
      else logger.debug({ status: s }, 'nats status');
    }
  })();
  return nc;
}
