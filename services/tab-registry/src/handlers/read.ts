import { NotFoundError, type TabRecord, type TabRefRequest, tabKey } from '@tabmesh/contracts';
import { nowIso, type Versioned } from '@tabmesh/runtime';
import type { RegistryContext } from '../context.js';

/** Clears `unread`; reading an already-read tab writes nothing. */
export async function markRead(ctx: RegistryContext, req: TabRefRequest): Promise<Versioned<TabRecord>> {
  const res = await ctx.tabs.mutate(tabKey(req.org, req.task, req.tab), (cur) =>
    cur?.value.unread ? { ...cur.value, unread: false, updatedAt: nowIso() } : null,
  );
  if (!res) throw new NotFoundError(`tab ${req.tab} not found in ${req.org}/${req.task}`);
  return res;
}
