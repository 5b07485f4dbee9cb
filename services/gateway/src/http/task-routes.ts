import type { OpenAPIHono } from '@hono/zod-openapi';
import { TaskResponseSchema, TeardownResponseSchema } from '@tabmesh/contracts';
import type { TaskStore } from '@tabmesh/runtime';
import type { BusClient } from '../bus-client.js';
import { getTaskRoute, teardownTaskRoute } from './api-routes.js';
import type { AppEnv } from './app-env.js';
import { reply } from './validate.js';

export type TaskRoutesDeps = { bus: BusClient; tasks: TaskStore };

/** A task's provisioning status (a task never seen is `unprovisioned`), and its teardown. */
export function registerTaskRoutes(app: OpenAPIHono<AppEnv>, { bus, tasks }: TaskRoutesDeps): void {
  app.openapi(getTaskRoute, async (c) => {
    const { org, task } = c.req.valid('param');
    return reply(c, TaskResponseSchema, { v: 1, task: await tasks.status(org, task) }, 200);
  });

  app.openapi(teardownTaskRoute, async (c) => {
    const { org, task } = c.req.valid('param');
    const result = await bus.teardownTask({ v: 1, org, task }, c.get('requestId'));
    c.get('logger').info({ org, task, closedTabs: result.closedTabs }, 'task teardown requested');
    return reply(c, TeardownResponseSchema, { v: 1, ...result }, 202);
  });
}
