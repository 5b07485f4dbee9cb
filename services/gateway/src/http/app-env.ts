import type { Logger } from '@tabmesh/runtime';
import type { RequestIdVariables } from 'hono/request-id';
import type { Principal } from '../access/authenticator.js';

/** What the HTTP server tells the app about a request beyond the request itself (absent under app.request in tests). */
export type ServerBindings = {
  /** The peer's address, for callers without a verified identity. */
  remoteAddress?: string;
  /** The body was longer than the server reads (it is not handed over). */
  bodyTooLarge?: boolean;
};

/** Typed context variables every route can read. */
export type AppEnv = {
  Bindings: ServerBindings;
  Variables: RequestIdVariables & {
    /** Child logger carrying this request's id (and, under `/v1`, the caller's `sub`). */
    logger: Logger;
    /** The verified caller; set on every `/v1` route before anything is read or written. */
    principal: Principal;
  };
};
