import { bearerToken, ForbiddenError, mayUseOrg, UnauthenticatedError } from '@tabmesh/auth';
import type { MiddlewareHandler } from 'hono';
import type { Authenticator, Principal } from '../access/authenticator.js';
import type { AppEnv } from './app-env.js';

export type AuthenticateOptions = { authenticator: Authenticator };

/**
 * Verifies the bearer token and puts the caller in the context (and its `sub` on the request's
 * logger). A refusal is logged with its reason, never with the token, and leaves through onError.
 */
export function authenticate({ authenticator }: AuthenticateOptions): MiddlewareHandler<AppEnv> {
  return async function authenticate(c, next) {
    const log = c.get('logger');
    let principal: Principal;
    try {
      principal = await authenticator.authenticate(bearerToken(c.req.header('authorization')));
    } catch (err) {
      if (err instanceof UnauthenticatedError) {
        log.warn(
          { method: c.req.method, path: c.req.path, reason: err.reason, check: err.check },
          'request refused: unauthenticated',
        );
      }
      throw err;
    }
    if (!authenticator.enabled)
      log.warn({ method: c.req.method, path: c.req.path }, 'TABMESH_AUTH=off: request not authenticated');
    c.set('principal', principal);
    c.set('logger', log.child({ sub: principal.sub }));
    await next();
  };
}

/** Refuses a `/v1/orgs/{org}/…` request for an org the token does not name, before its handler runs. */
export function authorizeOrg(): MiddlewareHandler<AppEnv> {
  return async function authorizeOrg(c, next) {
    const org = c.req.param('org') ?? '';
    if (!mayUseOrg(c.get('principal'), org)) {
      c.get('logger').warn({ method: c.req.method, path: c.req.path, org }, 'request refused: org not allowed');
      throw new ForbiddenError(`this token may not use org ${org}`);
    }
    await next();
  };
}
