import type { MiddlewareHandler } from 'hono';
import type { Authenticator } from '../access/authenticator.js';
import { GatewayLimits } from '../limits/gateway-limits.js';
import type { AppEnv } from './app-env.js';

export type RateLimitOptions = { limits: GatewayLimits; authenticator: Authenticator };

/**
 * Spends one request of the caller's rate (GATEWAY_RATE_LIMIT), after authentication so the key is
 * the token's `sub`. Over it the request leaves as `429 limit_reached` with Retry-After, through
 * onError, before any handler reads or writes.
 */
export function rateLimit({ limits, authenticator }: RateLimitOptions): MiddlewareHandler<AppEnv> {
  return async function rateLimit(c, next) {
    const key = GatewayLimits.callerKey(c.get('principal'), authenticator.enabled, c.env?.remoteAddress);
    try {
      limits.checkRequest(key);
    } catch (err) {
      // Debug, not warn: a flood would otherwise turn into a flood of log lines; the refusals are counted in metrics.
      c.get('logger').debug({ method: c.req.method, path: c.req.path }, 'request refused: rate limit');
      throw err;
    }
    await next();
  };
}
