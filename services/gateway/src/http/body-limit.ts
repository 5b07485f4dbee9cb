import type { MiddlewareHandler } from 'hono';
import { bodyLimit as honoBodyLimit } from 'hono/body-limit';
import type { AppEnv } from './app-env.js';

/**
 * The body limit. The HTTP server reads a body up to the limit before the app sees the request and
 * says when it was longer (`bodyTooLarge`), so under it this only looks at that flag; a request that
 * did not come through the server (app.request in tests) goes through hono's middleware, which
 * counts the bytes as they come.
 */
export function bodyLimit(options: {
  maxSize: number;
  onError: NonNullable<Parameters<typeof honoBodyLimit>[0]['onError']>;
}): MiddlewareHandler<AppEnv> {
  const counted = honoBodyLimit(options);
  return async function bodyLimit(c, next) {
    const told = c.env?.bodyTooLarge;
    if (told === undefined) return counted(c, next);
    if (told) return options.onError(c);
    return next();
  };
}
