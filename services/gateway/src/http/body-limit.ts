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
    const size = Number.parseInt(length, 10);
    if (size > options.maxSize) return counted(c, next);
    if (size > 0) readLazily(c.req.bodyCache, incoming);
    return next();
  };
}

/**
 * The body as text (what `c.req.text()` and `c.req.json()` read), read from Node's request only when
 * asked for and never through a fetch Request: @hono/node-server would build one per request with a
 * web stream over the socket just to hand over a few hundred bytes. Decoded as Request.text() does
 * (UTF-8, a byte order mark dropped). Nothing else reads the body (see validate.ts's jsonBody).
 */
function readLazily(cache: object, incoming: IncomingMessage): void {
  let text: Promise<string> | undefined;
  Object.defineProperty(cache, 'text', {
    configurable: true,
    enumerable: true,
    get: () => (text ??= readText(incoming)),
  });
}

function readText(incoming: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.once('end', () => resolve(new TextDecoder().decode(Buffer.concat(chunks))));
    incoming.once('error', reject);
    incoming.once('close', () => {
      if (!incoming.complete) reject(new Error('request body: the client went away before sending it all'));
    });
  });
}
