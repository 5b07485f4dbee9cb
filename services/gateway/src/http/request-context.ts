import type { Logger } from '@tabmesh/runtime';
import { jobLogger } from '@tabmesh/runtime';
import type { MiddlewareHandler } from 'hono';
import type { GatewayMetrics } from '../gateway-metrics.js';
import type { AppEnv } from './app-env.js';

export type RequestContextOptions = { logger: Logger; metrics: GatewayMetrics };

/**
 * Gives each request a child logger with its request id (also its correlation id on the bus),
 * counts it by route pattern and status, and logs it once done. Runs after `requestId()`.
 */
export function requestContext({ logger, metrics }: RequestContextOptions): MiddlewareHandler<AppEnv> {
  return async function requestContext(c, next) {
    const log = jobLogger(logger, { correlationId: c.get('requestId') });
    c.set('logger', log);
    const start = performance.now();
    await next();
    const status = c.res.status;
    const route = c.req.routePath;
    metrics.httpRequests.inc({ method: c.req.method, route, status: String(status) });
    const ms = Math.round((performance.now() - start) * 10) / 10;
    const line = { method: c.req.method, path: c.req.path, route, status, ms };
    // The logger as the request left it: under `/v1` it carries the caller's `sub`.
    const done = c.get('logger');
    if (status >= 500) done.error(line, 'request failed');
    else done.debug(line, 'request');
  };
}
