import type { MiddlewareHandler } from 'hono';
import { UnsupportedMediaTypeError } from '../errors.js';
import type { AppEnv } from './app-env.js';
import { isJsonType } from './validate.js';

const BodyMethods = new Set(['POST', 'PUT', 'PATCH']);

/** Whether the request carries body bytes; an empty POST (read, retry) needs no content type. */
function hasBody(headers: Headers): boolean {
  if (headers.has('transfer-encoding')) return true;
  const length = headers.get('content-length');
  return length !== null && Number(length) !== 0;
}

/**
 * A body must be declared `application/json`, also when no Content-Type is sent: a cross-site
 * `no-cors` fetch or form can send text/plain or nothing without a preflight, never JSON.
 */
export function requireJsonBody(): MiddlewareHandler<AppEnv> {
  return async function requireJsonBody(c, next) {
    if (BodyMethods.has(c.req.method) && hasBody(c.req.raw.headers)) {
      const type = c.req.header('content-type');
      if (!isJsonType(type)) {
        throw new UnsupportedMediaTypeError(
          `request body: content-type must be application/json, got ${type ?? 'none'}`,
        );
      }
    }
    await next();
  };
}
