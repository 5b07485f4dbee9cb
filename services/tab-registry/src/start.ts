import { z } from 'zod';
import {
  Subjects,
  TabCreateRequestSchema,
  TabRefRequestSchema,
  TabReplySchema,
  TaskRefRequestSchema,
  TaskReplySchema,
} from '@tabmesh/contracts';
import { TabFlow, TabStore, TaskStore, TypedBucket, startService, type Bus, type Config, type Logger, type RunningService } from '@tabmesh/runtime';
import type { RegistryContext } from './context.js';
import { closeTab } from './handlers/close.js';
import { createTab } from './handlers/create.js';
import { markRead } from './handlers/read.js';
import { retryTab } from './handlers/retry.js';
import { teardownTask } from './handlers/teardown.js';
import { ClosedReaper } from './closed-reaper.js';
import { PendingSweep } from './pending-sweep.js';
import { TabIndex } from './tab-index.js';
import { QueueObserver } from './queue-observer.js';
import { route, serveEndpoints, type AnyRoute } from './endpoints.js';

export type TabRegistryHandle = RunningService<{ sweep: PendingSweep; reaper: ClosedReaper; index: TabIndex }>;

const tabReply = (v: { value: Parameters<typeof TabStore.view>[0]['value']; revision: number }, created = false) => ({
  v: 1 as const,
  ok: true as const,
  tab: TabStore.view(v),
  created,
});

const taskReply = (res: Awaited<ReturnType<typeof teardownTask>>) => ({
  v: 1 as const,
  ok: true as const,
  task: TaskStore.view(res.task.value, res.task.revision),
  closedTabs: res.closedTabs,
});

/** The request endpoints, one per subject. */
function routes(ctx: RegistryContext): AnyRoute[] {
  return [
    route(Subjects.tabCreate, TabCreateRequestSchema, TabReplySchema, async (req, meta) => {
      const res = await createTab(ctx, req, meta);
      return tabReply(res.tab, res.created);
    }),
    route(Subjects.tabClose, TabRefRequestSchema, TabReplySchema, async (req, meta) => tabReply(await closeTab(ctx, req, meta))),
    route(Subjects.tabRetry, TabRefRequestSchema, TabReplySchema, async (req, meta) => tabReply(await retryTab(ctx, req, meta))),
    route(Subjects.tabRead, TabRefRequestSchema, TabReplySchema, async (req) => tabReply(await markRead(ctx, req))),
    route(Subjects.taskTeardown, TaskRefRequestSchema, TaskReplySchema, async (req, meta) => taskReply(await teardownTask(ctx, req, meta))),
  ];
}

function registryContext(config: Config, bus: Bus): RegistryContext {
  const tabs = new TabStore(bus.tabs);
  const tasks = new TaskStore(bus.tasks);
  return {
    config,
    js: bus.js,
    tabs,
    tasks,
    requests: new TypedBucket(bus.tabRequests, z.string(), 'tab request'),
    flow: new TabFlow(bus.js, tabs, tasks),
  };
}

/** Serves the `tab.*` and `task.teardown` requests in the registry's queue group, and keeps pending tabs moving. */
export function startTabRegistry(config: Config, logger: Logger): Promise<TabRegistryHandle> {
  return startService({
    name: 'tab-registry',
    config,
    logger,
    start: async ({ bus, onStop }) => {
      const ctx = registryContext(config, bus);
      const endpoints = await serveEndpoints(bus.nc, routes(ctx), logger);
      onStop(() => endpoints.stop());
      const index = new TabIndex(bus.tabs, logger);
      onStop(() => index.stop());
      await index.start();
      const sweep = new PendingSweep(index, ctx.flow, {
        intervalMs: config.TABMESH_SWEEP_INTERVAL_MS,
        staleAfterMs: config.TABMESH_SWEEP_AFTER_MS,
        logger,
      });
      sweep.start();
      onStop(() => sweep.stop());
      const reaper = new ClosedReaper(index, bus.tabs, bus.tabRequests, {
        retentionMs: config.TABMESH_CLOSED_RETENTION_MS,
        intervalMs: Math.min(60_000, config.TABMESH_CLOSED_RETENTION_MS),
        logger,
      });
      reaper.start();
      onStop(() => reaper.stop());
      const observer = new QueueObserver(bus.jsm, ctx.flow, () => index.pending.values(), {
        intervalMs: config.TABMESH_QUEUE_OBSERVE_MS,
        logger,
      });
      observer.start();
      onStop(() => observer.stop());
      return { handle: { sweep, reaper, index }, running: endpoints.running, inFlight: endpoints.inFlight };
    },
  });
}
