import type { OpenAPIHono } from '@hono/zod-openapi';
import {
  CreateTabBodySchema,
  NotFoundError,
  Subjects,
  TabListResponseSchema,
  TabResponseSchema,
} from '@tabmesh/contracts';
import { TabStore } from '@tabmesh/runtime';
import type { BusClient } from '../bus-client.js';
import type { GatewayMetrics } from '../gateway-metrics.js';
import { readOpenTabs } from '../read-tabs.js';
import {
  closeTabRoute,
  createTabRoute,
  getTabRoute,
  listTabsRoute,
  readTabRoute,
  retryTabRoute,
} from './api-routes.js';
import type { AppEnv } from './app-env.js';
import { jsonBody, reply } from './validate.js';

export type TabRoutesDeps = { bus: BusClient; tabs: TabStore; metrics: GatewayMetrics };

/** Tabs: create, list, read, close, retry, mark read. Writes go to tab-registry; reads go to KV. */
export function registerTabRoutes(app: OpenAPIHono<AppEnv>, { bus, tabs, metrics }: TabRoutesDeps): void {
  // The body is read by jsonBody(), not by the route's validator, so the JSON-only rules stay the
  // gateway's own (an empty body is `{}`, malformed JSON and a non-JSON type are our problems); the
  // full route, body included, goes into the document by itself.
  app.openAPIRegistry.registerPath(createTabRoute);
  app.openapi({ ...createTabRoute, request: { params: createTabRoute.request.params }, hide: true }, async (c) => {
    const { org, task } = c.req.valid('param');
    const { v: _v, ...options } = await jsonBody(c, CreateTabBodySchema);
    const stop = metrics.tabCreateSeconds.startTimer();
    const { tab, created } = await bus.createTab({ v: 1, org, task, ...options }, c.get('requestId'));
    stop();
    c.get('logger').debug({ org, task, tab: tab.id, created }, created ? 'tab created' : 'tab create repeated');
    return created ? reply(c, TabResponseSchema, { v: 1, tab }, 201) : reply(c, TabResponseSchema, { v: 1, tab }, 200);
  });

  app.openapi(listTabsRoute, async (c) => {
    const { org, task } = c.req.valid('param');
    return reply(c, TabListResponseSchema, await readOpenTabs(tabs, org, task), 200);
  });

  app.openapi(getTabRoute, async (c) => {
    const { org, task, tab } = c.req.valid('param');
    const found = await tabs.getTab(org, task, tab);
    if (!found) throw new NotFoundError(`tab ${tab} not found in ${org}/${task}`);
    const [view] = await tabs.views(org, task, [found]);
    return reply(c, TabResponseSchema, { v: 1, tab: view ?? TabStore.view(found) }, 200);
  });

  app.openapi(closeTabRoute, async (c) => {
    const ref = { v: 1 as const, ...c.req.valid('param') };
    const tab = await bus.tabRef(Subjects.tabClose, ref, c.get('requestId'));
    return reply(c, TabResponseSchema, { v: 1, tab }, 202);
  });

  app.openapi(retryTabRoute, async (c) => {
    const ref = { v: 1 as const, ...c.req.valid('param') };
    const tab = await bus.tabRef(Subjects.tabRetry, ref, c.get('requestId'));
    return reply(c, TabResponseSchema, { v: 1, tab }, 202);
  });

  app.openapi(readTabRoute, async (c) => {
    const ref = { v: 1 as const, ...c.req.valid('param') };
    const tab = await bus.tabRef(Subjects.tabRead, ref, c.get('requestId'));
    return reply(c, TabResponseSchema, { v: 1, tab }, 200);
  });
}
