import { z } from 'zod';
import {
  Subjects,
  TabSlotsSchema,
  TabCreateRequestSchema,
  TabRefRequestSchema,
  TabReplySchema,
  TaskRefRequestSchema,
  TaskReplySchema,
} from '@tabmesh/contracts';
import {
  ProvisionedTasks,
  TabFlow,
  TabStore,
  TaskStore,
  TypedBucket,
  connectNats,
  drainConnection,
  ensureBus,
  type Config,
  type Logger,
  type ServiceHandle,
} from '@tabmesh/runtime';
import type { RegistryContext } from './context.js';
import { closeTab } from './handlers/close.js';
import { createTab } from './handlers/create.js';
import { markRead } from './handlers/read.js';
import { retryTab } from './handlers/retry.js';
import { teardownTask } from './handlers/teardown.js';
import { ClosedReaper } from './closed-reaper.js';
import { IdleReaper } from './idle-reaper.js';
import { PendingSweep } from './pending-sweep.js';
import { TabIndex } from './tab-index.js';
import { TabSlots } from './tab-slots.js';
import { QueueObserver } from './queue-observer.js';
import { serve } from './responder.js';

/**
 * A taken slot whose tab is not written yet is a create in flight for this long (a create takes a
 * few ms; a registry stalled longer than this may see its slot reused, a bounded over-count of one).
 */
const SlotGraceMs = 30_000;

export type TabRegistryHandle = ServiceHandle & { sweep: PendingSweep; reaper: ClosedReaper; index: TabIndex; idleReaper: IdleReaper };

/** Serves the `tab.*` and `task.teardown` requests in the registry's queue group. */
export async function startTabRegistry(config: Config, logger: Logger): Promise<TabRegistryHandle> {
  const nc = await connectNats(config.NATS_URL, 'tab-registry', logger);
  const bus = await ensureBus(nc, config);
  const tabs = new TabStore(bus.tabs);
  const tasks = new TaskStore(bus.tasks);
  const index = new TabIndex(bus.tabs, logger);
  const slots = new TabSlots(new TypedBucket(bus.tabSlots, TabSlotsSchema, 'tab slots'), tabs, index, {
    max: config.TABMESH_MAX_TABS_PER_TASK,
    graceMs: SlotGraceMs,
  });
  const requests = new TypedBucket(bus.tabRequests, z.string(), 'tab request');
  const ctx: RegistryContext = {
    config,
    js: bus.js,
    tabs,
    tasks,
    requests,
    flow: new TabFlow(bus.js, tabs, tasks),
    slots,
  };
  const ok = (v: { value: Parameters<typeof TabStore.view>[0]['value']; revision: number }, created = false) => ({
    v: 1 as const,
    ok: true as const,
    tab: TabStore.view(v),
    created,
  });
  const inFlight = new Set<Promise<unknown>>();
  const subs = [
    serve(nc, {
      subject: Subjects.tabCreate,
      request: TabCreateRequestSchema,
      reply: TabReplySchema,
      handle: async (req, meta) => {
        const res = await createTab(ctx, req, meta);
        return ok(res.tab, res.created);
      },
    }, logger, inFlight),
    serve(nc, { subject: Subjects.tabClose, request: TabRefRequestSchema, reply: TabReplySchema, handle: async (req, meta) => ok(await closeTab(ctx, req, meta)) }, logger, inFlight),
    serve(nc, { subject: Subjects.tabRetry, request: TabRefRequestSchema, reply: TabReplySchema, handle: async (req, meta) => ok(await retryTab(ctx, req, meta)) }, logger, inFlight),
    serve(nc, { subject: Subjects.tabRead, request: TabRefRequestSchema, reply: TabReplySchema, handle: async (req) => ok(await markRead(ctx, req)) }, logger, inFlight),
    serve(nc, {
      subject: Subjects.taskTeardown,
      request: TaskRefRequestSchema,
      reply: TaskReplySchema,
      handle: async (req, meta) => {
        const res = await teardownTask(ctx, req, meta);
        return { v: 1 as const, ok: true as const, task: TaskStore.view(res.task.value, res.task.revision), closedTabs: res.closedTabs };
      },
    }, logger, inFlight),
  ];
  await index.start();
  const sweep = new PendingSweep(index, ctx.flow, {
    intervalMs: config.TABMESH_SWEEP_INTERVAL_MS,
    staleAfterMs: config.TABMESH_SWEEP_AFTER_MS,
    logger,
  });
  sweep.start();
  const reaper = new ClosedReaper(index, { tabs, requests, slots, jsm: bus.jsm }, {
    retentionMs: config.TABMESH_CLOSED_RETENTION_MS,
    intervalMs: Math.min(60_000, config.TABMESH_CLOSED_RETENTION_MS),
    logger,
  });
  reaper.start();
  const observer = new QueueObserver(bus.jsm, ctx.flow, () => index.pending.values(), {
    intervalMs: config.TABMESH_QUEUE_OBSERVE_MS,
    logger,
  });
  observer.start();
  const provisioned = new ProvisionedTasks(bus.tasks, logger);
  await provisioned.start();
  const idleReaper = new IdleReaper(index, provisioned, ctx.flow, {
    idleMs: config.TABMESH_SANDBOX_IDLE_MS,
    intervalMs: Math.max(50, Math.min(30_000, Math.floor(config.TABMESH_SANDBOX_IDLE_MS / 4))),
    logger,
  });
  idleReaper.start();
  logger.info('tab-registry ready');

  let stopped: Promise<void> | null = null;
  return {
    sweep,
    reaper,
    index,
    idleReaper,
    stop: () =>
      (stopped ??= (async () => {
        idleReaper.stop();
        provisioned.stop();
        sweep.stop();
        observer.stop();
        reaper.stop();
        index.stop();
        for (const s of subs) s.unsubscribe();
        logger.info({ inFlight: inFlight.size }, 'drain start');
        await Promise.allSettled([...inFlight]);
        await drainConnection(nc);
        logger.info('drain end');
      })()),
  };
}
