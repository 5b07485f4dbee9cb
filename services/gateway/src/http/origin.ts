import { ForbiddenError } from '@tabmesh/auth';
import type { MiddlewareHandler } from 'hono';
import type { OriginPolicy } from '../access/origins.js';
import type { AppEnv } from './app-env.js';

/**
 * Refuses requests from pages of other origins (a site the developer visits, or one that rebinds a
 * DNS name to the loopback address): a request whose `Origin` is present and not allowed is a 403.
 */
export function checkOrigin({ origins }: { origins: OriginPolicy }): MiddlewareHandler<AppEnv> {
  return async function checkOrigin(c, next) {
    const origin = c.req.header('origin');
    if (!origins.allows(origin)) {
      c.get('logger').warn({ method: c.req.method, path: c.req.path, origin }, 'request refused: origin not allowed');
      throw new ForbiddenError(`origin not allowed: ${origin}`);
    }
    await next();
  };
}
