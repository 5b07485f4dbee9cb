import { UnavailableError } from '@tabmesh/contracts';
import type { MiddlewareHandler } from 'hono';
import type { Readiness } from '../readiness.js';
import type { AppEnv } from './app-env.js';

/** Answers 503 at once while NATS is down, instead of letting each request wait for its timeout. */
export function requireNats({ readiness }: { readiness: Readiness }): MiddlewareHandler<AppEnv> {
  return async function requireNats(_c, next) {
    if (!readiness.natsConnected()) throw new UnavailableError('NATS is unavailable; retry shortly');
    await next();
  };
}
