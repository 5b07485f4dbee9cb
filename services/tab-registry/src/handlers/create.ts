import { newTab, tabKey, type TabCreateRequest, type TabRecord } from '@tabmesh/contracts';
import type { Versioned } from '@tabmesh/runtime';
import type { RegistryContext, RequestMeta } from '../context.js';
import { mintTabId, requestKey } from '../ids.js';

export type CreateResult = { tab: Versioned<TabRecord>; created: boolean };

/**
 * Writes the placeholder tab and enqueues what it waits for; never calls a provider. A repeated
 * `clientRequestId` returns the original tab (and nudges it along, in case the first call died
 * half-way).
 */
export async function createTab(ctx: RegistryContext, req: TabCreateRequest, meta: RequestMeta): Promise<CreateResult> {
  const { org, task } = req;
  let id = mintTabId();
  if (req.clientRequestId) {
    const key = requestKey(org, task, req.clientRequestId);
    const claimed = await ctx.requests.create(key, id);
    if (claimed === null) {
      const earlier = await ctx.requests.get(key);
      if (!earlier) throw new Error(`request key ${key} vanished`);
      id = earlier.value;
      const existing = await ctx.tabs.getTab(org, task, id);
      if (existing) {
        const driven = await ctx.flow.drive(existing.value, meta.correlationId);
        return { tab: driven ?? existing, created: false };
      }
      // The first call claimed the id but died before writing the tab: finish its work now.
    }
  }

  const taskNow = await ctx.tasks.getTask(org, task);
  const record = newTab(
    {
      id,
      org,
      task,
      title: req.title ?? '',
      agent: req.agent ?? ctx.config.TABMESH_AGENT,
      model: req.model ?? null,
      clientRequestId: req.clientRequestId ?? null,
    },
    taskNow?.value,
  );
  const revision = await ctx.tabs.create(tabKey(org, task, id), record);
  const written = revision === null ? await ctx.tabs.getTab(org, task, id) : { value: record, revision };
  if (!written) throw new Error(`tab ${id} could not be written`);
  meta.logger.info({ tab: id, state: written.value.state }, 'tab created');
  // Written first, then the task is read again inside drive(): a provisioner that finished in
  // between scans the tabs after writing the task, so one of the two always moves this tab on.
  const driven = await ctx.flow.drive(written.value, meta.correlationId);
  return { tab: driven ?? written, created: revision !== null };
}
