import {
  InvalidTransitionError,
  NotFoundError,
  Step,
  TabState,
  TaskProvisioning,
  progressText,
  tabKey,
  type TabRecord,
  type TabRefRequest,
} from '@tabmesh/contracts';
import { nowIso, type Versioned } from '@tabmesh/runtime';
import type { RegistryContext, RequestMeta } from '../context.js';

/**
 * Moves an `error` tab back to the step it failed at: a session error retries the session with a
 * new attempt; a provisioning error starts a new provisioning generation.
 */
export async function retryTab(ctx: RegistryContext, req: TabRefRequest, meta: RequestMeta): Promise<Versioned<TabRecord>> {
  const task = await ctx.tasks.getTask(req.org, req.task);
  const provisioned = task?.value.state === TaskProvisioning.Provisioned && task.value.sandbox;
  let refused: TabRecord | null = null;
  const res = await ctx.tabs.mutate(tabKey(req.org, req.task, req.tab), (cur) => {
    if (!cur) return null;
    if (cur.value.state !== TabState.Error) {
      refused = cur.value;
      return null;
    }
    refused = null;
    const step = provisioned ? Step.CreatingSession : Step.Queued;
    return {
      ...cur.value,
      state: provisioned ? TabState.PendingSessionCreate : TabState.PendingProvision,
      sandboxId: provisioned ? task!.value.sandbox!.id : null,
      attempt: cur.value.attempt + 1,
      error: null,
      step,
      progress: progressText(step),
      updatedAt: nowIso(),
    };
  });
  if (!res) throw new NotFoundError(`tab ${req.tab} not found in ${req.org}/${req.task}`);
  if (refused) throw new InvalidTransitionError(`tab ${req.tab} is ${(refused as TabRecord).state}; only a tab in error can be retried`);
  meta.logger.info({ tab: req.tab, attempt: res.value.attempt }, 'tab retried');
  return (await ctx.flow.drive(res.value, meta.correlationId)) ?? res;
}
