import { readFileSync } from 'node:fs';
import { type ConnectionOptions, connect, credsAuthenticator, type NatsConnection } from '@nats-io/transport-node';
import { inboxPrefix } from '@tabmesh/contracts';
import type { Logger } from 'pino';
import type { Config } from './config.js';

/** A bus identity: a user and password, or a credentials file; null connects anonymously. */
export type NatsAuth = { user: string; password: string } | { credsFile: string } | null;

/** The service's own identity from NATS_USER/NATS_PASSWORD or NATS_CREDS. */
export function natsAuthOf(config: Pick<Config, 'NATS_USER' | 'NATS_PASSWORD' | 'NATS_CREDS'>): NatsAuth {
  if (config.NATS_CREDS) return { credsFile: config.NATS_CREDS };
  if (config.NATS_USER && config.NATS_PASSWORD) return { user: config.NATS_USER, password: config.NATS_PASSWORD };
  return null;
}

/** The `setup` identity, when this process is given one (NATS_SETUP_*). */
export function setupAuthOf(
  config: Pick<Config, 'NATS_SETUP_USER' | 'NATS_SETUP_PASSWORD' | 'NATS_SETUP_CREDS'>,
): NatsAuth {
  if (config.NATS_SETUP_CREDS) return { credsFile: config.NATS_SETUP_CREDS };
  if (config.NATS_SETUP_USER && config.NATS_SETUP_PASSWORD)
    return { user: config.NATS_SETUP_USER, password: config.NATS_SETUP_PASSWORD };
  return null;
}

/** The connection options of an identity (the creds file is read now, so a missing one fails at start). */
export function authOptions(auth: NatsAuth): Pick<ConnectionOptions, 'user' | 'pass' | 'authenticator'> {
  if (auth === null) return {};
  if ('credsFile' in auth) return { authenticator: credsAuthenticator(readFileSync(auth.credsFile)) };
  return { user: auth.user, pass: auth.password };
}

/**
 * How long one attempt to reach a server may take. nats.js waits 20 s by default, and a node that
 * is gone answers nothing: each of its addresses (its name, and the address it told the cluster)
 * held a reconnecting service for that long before it tried the next server.
 */
const DialTimeoutMs = 3000;

/**
 * The longest a service that has lost its node takes to reach another: reconnecting may first try
 * the lost node's two addresses. (A node gone without closing its connections, as in a partition,
 * is noticed first, when two pings 10 s apart go unanswered.)
 */
export const ReconnectWithinMs = 2 * DialTimeoutMs;

/**
 * Connects with unbounded reconnects, so a service rides out a nats-server restart by itself,
 * and logs every status change. Replies come to `_INBOX.<name>.…`, the only inboxes the service's
 * NATS user may subscribe to (BusPermissions).
 */
export async function connectNats(
  url: string,
  name: string,
  logger: Logger,
  auth: NatsAuth = null,
): Promise<NatsConnection> {
  const nc = await connect({
    servers: url.split(','),
    name,
    ...authOptions(auth),
    inboxPrefix: inboxPrefix(name),
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    reconnectJitter: 250,
    pingInterval: 10_000,
    timeout: DialTimeoutMs,
    waitOnFirstConnect: true,
    // nats.js otherwise builds two Error objects (stack traces included) for every request, to
    // improve the stack of a failure: on the create path that was ~10% of tab-registry's CPU.
    noAsyncTraces: true,
  });
  logger.info({ server: nc.getServer(), user: auth && 'user' in auth ? auth.user : undefined }, 'nats connected');
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect' || s.type === 'reconnect') logger.warn({ status: s }, `nats ${s.type}`);
      else if (s.type === 'error') logger.error({ status: s }, 'nats error');
      else logger.debug({ status: s }, 'nats status');
    }
  })();
  return nc;
}
