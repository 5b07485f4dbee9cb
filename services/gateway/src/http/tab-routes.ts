import {
  CreateTabBodySchema,
  NotFoundError,
  Subjects,
  TabListResponseSchema,
  TabResponseSchema,
} from '@tabmesh/contracts';
import { TabStore } from '@tabmesh/runtime';
import type { Hono } from 'hono';
import type { BusClient } from '../bus-client.js';
import type { GatewayMetrics } from '../gateway-metrics.js';
import { readOpenTabs } from '../read-tabs.js';
import type { AppEnv } from './app-env.js';
import { TabParamsSchema, TabPath, TabsPath, TaskParamsSchema } from './params.js';
import { jsonBody, params, reply } from './validate.js';

export type TabRoutesDeps = { bus: BusClient; tabs: TabStore; metrics: GatewayMetrics };

/** Tabs: create, list, read, close, retry, mark read. Writes go to tab-registry; reads go to KV. */
export function registerTabRoutes(app: Hono<AppEnv>, { bus, tabs, metrics }: TabRoutesDeps): void {
  app.post(TabsPath, async (c) => {
    const { org, task } = params(c, TaskParamsSchema);
    const { v: _v, ...options } = await jsonBody(c, CreateTabBodySchema);
    const stop = metrics.tabCreateSeconds.startTimer();
    const { tab, created } = await bus.createTab({ v: 1, org, task, ...options }, c.get('requestId'));
    stop();
    c.get('logger').info({ org, task, tab: tab.id, created }, created ? 'tab created' : 'tab create repeated');
    return reply(c, TabResponseSchema, { v: 1, tab }, created ? 201 : 200);
  });

  app.get(TabsPath, async (c) => {
    const { org, task } = params(c, TaskParamsSchema);
    return reply(c, TabListResponseSchema, await readOpenTabs(tabs, org, task));
  });

  app.get(TabPath, async (c) => {
    const { org, task, tab } = params(c, TabParamsSchema);
    const found = await tabs.getTab(org, task, tab);
    if (!found) throw new NotFoundError(`tab ${tab} not found in ${org}/${task}`);
    return reply(c, TabResponseSchema, { v: 1, tab: TabStore.view(found) });
  });

  app.delete(TabPath, async (c) => {
    const ref = { v: 1 as const, ...params(c, TabParamsSchema) };
    const tab = await bus.tabRef(Subjects.tabClose, ref, c.get('requestId'));
    return reply(c, TabResponseSchema, { v: 1, tab }, 202);
  });

  app.post(`${TabPath}/retry`, async (c) => {
    const ref = { v: 1 as const, ...params(c, TabParamsSchema) };
    const tab = await bus.tabRef(Subjects.tabRetry, ref, c.get('requestId'));
    return reply(c, TabResponseSchema, { v: 1, tab }, 202);
  });

  app.post(`${TabPath}/read`, async (c) => {
    const ref = { v: 1 as const, ...params(c, TabParamsSchema) };
    const tab = await bus.tabRef(Subjects.tabRead, ref, c.get('requestId'));
    return reply(c, TabResponseSchema, { v: 1, tab });
  });
}
