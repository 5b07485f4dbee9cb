import {
  newTask,
  ProvisionJobSchema,
  provisionSubject,
  TabState,
  type TaskRecord,
  type TaskRefRequest,
  taskKey,
  teardownMsgId,
  toUnprovisioned,
} from '@tabmesh/contracts';
import { publishJob, type Versioned } from '@tabmesh/runtime';
import type { RegistryContext, RequestMeta } from '../context.js';
import { closeTab } from './close.js';

/**
 * Closes every tab of a task and hands its sandbox to the provisioner for destruction. The task
 * returns to `unprovisioned` with a new generation, so a late job of the old one is ignored.
 */
export async function teardownTask(
  ctx: RegistryContext,
  req: TaskRefRequest,
  meta: RequestMeta,
): Promise<{ task: Versioned<TaskRecord>; closedTabs: number }> {
  let closedTabs = 0;
  for (const tab of await ctx.tabs.listTask(req.org, req.task)) {
    if (tab.value.state === TabState.Closed) continue;
    const res = await closeTab(ctx, { v: 1, org: req.org, task: req.task, tab: tab.value.id }, meta);
    if (res.changed) closedTabs++;
  }
  let sandbox: TaskRecord['sandbox'] = null;
  const res = await ctx.tasks.mutate(taskKey(req.org, req.task), (cur) => {
    if (!cur) return null;
    sandbox = cur.value.sandbox;
    return toUnprovisioned(cur.value);
  });
  const task = res ?? { value: newTask(req.org, req.task), revision: 0 };
  const toDestroy = sandbox as TaskRecord['sandbox'];
  if (res?.changed && toDestroy) {
    await publishJob(
      ctx.js,
      provisionSubject(req.org, req.task),
      ProvisionJobSchema,
      { v: 1, op: 'teardown', org: req.org, task: req.task, generation: task.value.generation, sandbox: toDestroy },
      teardownMsgId(req.org, req.task, task.value.generation),
      meta.correlationId,
    );
  }
  meta.logger.info({ closedTabs, sandbox: toDestroy?.id ?? null }, 'task torn down');
  return { task, closedTabs };
}
