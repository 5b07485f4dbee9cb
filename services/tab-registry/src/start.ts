import {
  Subjects,
  TabCreateRequestSchema,
  TabRefRequestSchema,
  TabReplySchema,
  TabSlotsSchema,
  TaskRefRequestSchema,
  TaskReplySchema,
  taskKey,
} from '@tabmesh/contracts';
import {
  type Bus,
  type Config,
  type InProcessRequests,
  type Logger,
  ProvisionedTasks,
  type RunningService,
  startService,
  TabFlow,
  TabStore,
  TaskStore,
  TypedBucket,
} from '@tabmesh/runtime';
import { z } from 'zod';
import { ClosedReaper } from './closed-reaper.js';
import type { RegistryContext } from './context.js';
import { type AnyRoute, route, serveEndpoints } from './endpoints.js';
import { closeTab } from './handlers/close.js';
import { createTab } from './handlers/create.js';
import { markRead } from './handlers/read.js';
import { retryTab } from './handlers/retry.js';
import { teardownTask } from './handlers/teardown.js';
import { IdleReaper } from './idle-reaper.js';
import { PendingSweep } from './pending-sweep.js';
import { QueueObserver } from './queue-observer.js';
import { SessionDestroys } from './session-destroys.js';
import { TabIndex } from './tab-index.js';
import { TabSlots } from './tab-slots.js';

/**
 * A taken slot whose tab is not written yet is a create in flight for this long (a create takes a
 * few ms; a registry stalled longer than this may see its slot reused, a bounded over-count of one).
 */
const SlotGraceMs = 30_000;

export type TabRegistryHandle = RunningService<{
  sweep: PendingSweep;
  reaper: ClosedReaper;
  index: TabIndex;
  idleReaper: IdleReaper;
  /** Its requests for a gateway in the same process (scripts/mesh-host.ts). */
  inProcess: InProcessRequests;
}>;

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
      if (res.created) return tabReply(res.tab, true);
      // A repeat returns the tab as clients see it, which may be waiting on a later step of its task.
      const [tab] = await ctx.tabs.views(req.org, req.task, [res.tab]);
      return { v: 1 as const, ok: true as const, tab: tab ?? TabStore.view(res.tab), created: false };
    }),
    route(Subjects.tabClose, TabRefRequestSchema, TabReplySchema, async (req, meta) =>
      tabReply(await closeTab(ctx, req, meta)),
    ),
    route(Subjects.tabRetry, TabRefRequestSchema, TabReplySchema, async (req, meta) =>
      tabReply(await retryTab(ctx, req, meta)),
    ),
    route(Subjects.tabRead, TabRefRequestSchema, TabReplySchema, async (req) => tabReply(await markRead(ctx, req))),
    route(Subjects.taskTeardown, TaskRefRequestSchema, TaskReplySchema, async (req, meta) =>
      taskReply(await teardownTask(ctx, req, meta)),
    ),
  ];
}

function registryContext(config: Config, bus: Bus, index: TabIndex, watched: ProvisionedTasks): RegistryContext {
  const tabs = new TabStore(bus.tabs, bus.tabSlots);
  const tasks = new TaskStore(bus.tasks);
  const requests = new TypedBucket(bus.tabRequests, z.string(), 'tab request');
  const slots = new TabSlots(new TypedBucket(bus.tabSlots, TabSlotsSchema, 'tab slots'), tabs, index, {
    max: config.TABMESH_MAX_TABS_PER_TASK,
    graceMs: SlotGraceMs,
  });
  const flow = new TabFlow(bus.js, tabs, tasks);
  return {
    config,
    js: bus.js,
    tabs,
    tasks,
    requests,
    flow,
    slots,
    destroys: new SessionDestroys(flow),
    seenTask: (org, task) => watched.seen(taskKey(org, task)),
    recentTab: (key) => index.recentTab(key),
  };
}

/** Serves the `tab.*` and `task.teardown` requests in the registry's queue group, and keeps pending tabs moving. */
export function startTabRegistry(config: Config, logger: Logger): Promise<TabRegistryHandle> {
  return startService({
    name: 'tab-registry',
    config,
    logger,
    start: async ({ bus, onStop }) => {
      // The index comes first: the tabs-per-task slots repair from it, and every loop below reads it.
      const index = new TabIndex(bus.tabs, logger);
      onStop(() => index.stop());
      await index.start();
      // Before the endpoints too: a create starts its tab from the task as this watch saw it.
      const provisioned = new ProvisionedTasks(bus.tasks, logger);
      await provisioned.start();
      onStop(() => provisioned.stop());
      const ctx = registryContext(config, bus, index, provisioned);
      const endpoints = await serveEndpoints(bus.nc, routes(ctx), logger);
      onStop(() => endpoints.stop());
      const sweep = new PendingSweep(index, ctx.flow, bus.jsm, {
        intervalMs: config.TABMESH_SWEEP_INTERVAL_MS,
        staleAfterMs: config.TABMESH_SWEEP_AFTER_MS,
        lostAfterMs: config.TABMESH_SWEEP_LOST_AFTER_MS,
        logger,
      });
      sweep.start();
      onStop(() => sweep.stop());
      const reaper = new ClosedReaper(
        index,
        { tabs: ctx.tabs, requests: ctx.requests, slots: ctx.slots, jsm: bus.jsm },
        {
          retentionMs: config.TABMESH_CLOSED_RETENTION_MS,
          intervalMs: Math.min(60_000, config.TABMESH_CLOSED_RETENTION_MS),
          logger,
        },
      );
      reaper.start();
      onStop(() => reaper.stop());
      const observer = new QueueObserver(bus.jsm, ctx.flow, () => index.pending.values(), {
        intervalMs: config.TABMESH_QUEUE_OBSERVE_MS,
        logger,
      });
      observer.start();
      onStop(() => observer.stop());
      const idleReaper = new IdleReaper(index, provisioned, ctx.flow, {
        idleMs: config.TABMESH_SANDBOX_IDLE_MS,
        intervalMs: Math.max(50, Math.min(30_000, Math.floor(config.TABMESH_SANDBOX_IDLE_MS / 4))),
        logger,
      });
      idleReaper.start();
      onStop(() => idleReaper.stop());
      return {
        handle: { sweep, reaper, index, idleReaper, inProcess: endpoints.inProcess },
        running: endpoints.running,
        inFlight: endpoints.inFlight,
      };
    },
  });
}
