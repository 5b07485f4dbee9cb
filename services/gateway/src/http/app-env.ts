import type { Logger } from '@tabmesh/runtime';
import type { RequestIdVariables } from 'hono/request-id';

/** Typed context variables every route can read. */
export type AppEnv = {
  Variables: RequestIdVariables & {
    /** Child logger carrying this request's id. */
    logger: Logger;
  };
};
