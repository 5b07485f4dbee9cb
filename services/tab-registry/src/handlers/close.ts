import { NotFoundError, type TabRecord, type TabRefRequest, tabKey, toClosed } from '@tabmesh/contracts';
import type { Versioned } from '@tabmesh/runtime';
import type { RegistryContext, RequestMeta } from '../context.js';

/** Closes a tab in any state; closing twice changes nothing. A live session is destroyed in the background. */
export async function closeTab(
  ctx: RegistryContext,
  req: TabRefRequest,
  meta: RequestMeta,
): Promise<Versioned<TabRecord> & { changed: boolean }> {
  const key = tabKey(req.org, req.task, req.tab);
  // From the index's copy when it has one (a tab written lately): the compare-and-set finds out if
  // the tab has moved on since, and then reads it.
  const res = await ctx.tabs.mutate(key, (cur) => (cur ? toClosed(cur.value) : null), ctx.recentTab(key));
  if (!res) throw new NotFoundError(`tab ${req.tab} not found in ${req.org}/${req.task}`);
  // Both also when it was already closed: a close that died before them left the slot taken or the
  // session live, and the caller's retry lands here (the job is deduped, destroy idempotent). They
  // do not depend on each other, so they go out together.
  await Promise.all([
    ctx.slots.release(req.org, req.task, req.tab),
    res.value.sessionId ? ctx.destroys.destroy(res.value, meta.correlationId) : undefined,
  ]);
  if (res.changed) meta.logger.debug({ tab: req.tab }, 'tab closed');
  return res;
}
