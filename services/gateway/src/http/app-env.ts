import type { Logger } from '@tabmesh/runtime';
import type { RequestIdVariables } from 'hono/request-id';
import type { Principal } from '../access/authenticator.js';

/** Typed context variables every route can read. */
export type AppEnv = {
  Variables: RequestIdVariables & {
    /** Child logger carrying this request's id (and, under `/v1`, the caller's `sub`). */
    logger: Logger;
    /** The verified caller; set on every `/v1` route before anything is read or written. */
    principal: Principal;
  };
};
