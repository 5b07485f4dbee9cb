import { TaskResponseSchema, TeardownResponseSchema } from '@tabmesh/contracts';
import type { TaskStore } from '@tabmesh/runtime';
import type { Hono } from 'hono';
import type { BusClient } from '../bus-client.js';
import type { AppEnv } from './app-env.js';
import { TaskParamsSchema, TaskPath } from './params.js';
import { params, reply } from './validate.js';

export type TaskRoutesDeps = { bus: BusClient; tasks: TaskStore };

/** A task's provisioning status (a task never seen is `unprovisioned`), and its teardown. */
export function registerTaskRoutes(app: Hono<AppEnv>, { bus, tasks }: TaskRoutesDeps): void {
  app.get(TaskPath, async (c) => {
    const { org, task } = params(c, TaskParamsSchema);
    return reply(c, TaskResponseSchema, { v: 1, task: await tasks.status(org, task) });
  });

  app.delete(TaskPath, async (c) => {
    const { org, task } = params(c, TaskParamsSchema);
    const result = await bus.teardownTask({ v: 1, org, task }, c.get('requestId'));
    c.get('logger').info({ org, task, closedTabs: result.closedTabs }, 'task teardown requested');
    return reply(c, TeardownResponseSchema, { v: 1, ...result }, 202);
  });
}
