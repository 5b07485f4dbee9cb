import { OpenAPIHono } from '@hono/zod-openapi';
import { type Logger, newCorrelationId, type TabStore, type TaskStore } from '@tabmesh/runtime';
import { requestId } from 'hono/request-id';
import type { Authenticator } from '../access/authenticator.js';
import type { OriginPolicy } from '../access/origins.js';
import type { BusClient } from '../bus-client.js';
import { PayloadTooLargeError, RouteNotFoundError } from '../errors.js';
import type { GatewayMetrics } from '../gateway-metrics.js';
import type { GatewayLimits } from '../limits/gateway-limits.js';
import type { Readiness } from '../readiness.js';
import type { AppEnv } from './app-env.js';
import { authenticate, authorizeOrg } from './auth.js';
import { bodyLimit } from './body-limit.js';
import { requireJsonBody } from './json-only.js';
import { registerDocRoutes, validationHook } from './openapi.js';
import { registerOpsRoutes } from './ops-routes.js';
import { checkOrigin } from './origin.js';
import { onError } from './problem.js';
import { rateLimit } from './rate-limit.js';
import { requestContext } from './request-context.js';
import { requireNats } from './require-nats.js';
import { registerTabRoutes } from './tab-routes.js';
import { registerTaskRoutes } from './task-routes.js';

export const MaxBodyBytes = 16 * 1024;

export type HttpAppDeps = {
  bus: BusClient;
  tabs: TabStore;
  tasks: TaskStore;
  readiness: Readiness;
  metrics: GatewayMetrics;
  /** The process metrics of the shared lifecycle's registry, appended to the gateway's own on `/metrics`. */
  processMetrics?: { metrics: () => Promise<string> };
  logger: Logger;
  authenticator: Authenticator;
  origins: OriginPolicy;
  /** Per-caller bounds (DESIGN.md Limits); the request rate is spent on every `/v1` route. */
  limits: GatewayLimits;
  /** Serves the workbench page at `/` and its assets under `/workbench/` (libs/workbench-ui). */
  page?: (request: Request) => Promise<Response>;
};

/** The HTTP API of DESIGN.md on hono. */
export function createHttpApp(deps: HttpAppDeps): OpenAPIHono<AppEnv> {
  // Routes are OpenAPI routes (api-routes.ts): the document at /openapi.json is what they register.
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
  // Request ids double as bus correlation ids, so they follow the correlation id's length limit.
  app.use(requestId({ limitLength: 128, generator: () => newCorrelationId() }));
  app.use(requestContext({ logger: deps.logger, metrics: deps.metrics }));
  app.use(checkOrigin(deps));
  app.use(
    bodyLimit({
      maxSize: MaxBodyBytes,
      onError: () => {
        throw new PayloadTooLargeError(`request body: larger than ${MaxBodyBytes} bytes`);
      },
    }),
  );
  // Access first: a refused request reads and writes nothing (DESIGN.md "Access").
  app.use('/v1/*', authenticate(deps));
  // Keyed by the verified `sub`, so it runs after authentication and before anything else is read.
  app.use('/v1/*', rateLimit(deps));
  app.use('/v1/orgs/:org/*', authorizeOrg());
  app.use('/v1/*', requireJsonBody());
  app.use('/v1/*', requireNats(deps));
  registerOpsRoutes(app, deps);
  registerTabRoutes(app, deps);
  registerTaskRoutes(app, deps);
  registerDocRoutes(app);
  const page = deps.page;
  if (page) for (const path of ['/', '/workbench/*']) app.get(path, (c) => page(c.req.raw));
  app.notFound((c) => onError(new RouteNotFoundError(c.req.method, c.req.path), c));
  app.onError(onError);
  return app;
}
