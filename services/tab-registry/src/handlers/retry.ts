import {
  InvalidTransitionError,
  NotFoundError,
  type TabRecord,
  type TabRefRequest,
  tabKey,
  toRetry,
} from '@tabmesh/contracts';
import type { Versioned } from '@tabmesh/runtime';
import type { RegistryContext, RequestMeta } from '../context.js';

/**
 * Moves an `error` tab back to the step it failed at: a session error retries the session with a
 * new attempt; a provisioning error starts a new provisioning generation.
 */
export async function retryTab(
  ctx: RegistryContext,
  req: TabRefRequest,
  meta: RequestMeta,
): Promise<Versioned<TabRecord>> {
  const task = await ctx.tasks.getTask(req.org, req.task);
  let refused: TabRecord | null = null;
  const res = await ctx.tabs.mutate(tabKey(req.org, req.task, req.tab), (cur) => {
    if (!cur) return null;
    const next = toRetry(cur.value, task?.value);
    refused = next ? null : cur.value;
    return next;
  });
  if (!res) throw new NotFoundError(`tab ${req.tab} not found in ${req.org}/${req.task}`);
  if (refused)
    throw new InvalidTransitionError(
      `tab ${req.tab} is ${(refused as TabRecord).state}; only a tab in error can be retried`,
    );
  meta.logger.info({ tab: req.tab, attempt: res.value.attempt }, 'tab retried');
  return (await ctx.flow.drive(res.value, meta.correlationId)) ?? res;
}
