import type { IncomingMessage } from 'node:http';
import type { MiddlewareHandler } from 'hono';
import { bodyLimit as honoBodyLimit } from 'hono/body-limit';
import type { AppEnv } from './app-env.js';

/**
 * hono's bodyLimit, without building a request body where HTTP/1.1 says there is none. hono's
 * middleware asks `c.req.raw.body` first, which makes @hono/node-server build the full fetch
 * Request (and, for a DELETE, a body stream it then reads to the end and wraps in a second
 * Request): ~13 % of the gateway's CPU under load, most of it on requests with no body at all.
 * On Node's server the headers decide as the parser did (RFC 9112 §6.3): no Transfer-Encoding
 * and no Content-Length is an empty body, a Content-Length alone is the body's size (hono compares
 * it in the same way); anything else, and any request not from Node's server, goes through
 * hono's middleware, which counts the bytes as they come.
 */
export function bodyLimit(options: {
  maxSize: number;
  onError: Parameters<typeof honoBodyLimit>[0]['onError'];
}): MiddlewareHandler<AppEnv> {
  const counted = honoBodyLimit(options);
  return async function bodyLimit(c, next) {
    const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
    if (!incoming?.headers) return counted(c, next);
    const { headers } = incoming;
    if (headers['transfer-encoding'] !== undefined) return counted(c, next);
    const length = headers['content-length'];
    if (length === undefined) return next();
    if (Number.parseInt(length, 10) > options.maxSize) return counted(c, next);
    return next();
  };
}
