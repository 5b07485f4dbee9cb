import { newTab, type TabCreateRequest, type TabRecord, tabKey, UnavailableError } from '@tabmesh/contracts';
import { isStoreFull, QueueFullError, type Versioned } from '@tabmesh/runtime';
import type { RegistryContext, RequestMeta } from '../context.js';
import { mintTabId, requestKey } from '../ids.js';

export type CreateResult = { tab: Versioned<TabRecord>; created: boolean };

/**
 * Writes the placeholder tab and enqueues what it waits for; never calls a provider. A repeated
 * `clientRequestId` returns the original tab (and nudges it along, in case the first call died
 * half-way). A task at TABMESH_MAX_TABS_PER_TASK open tabs is refused (`limit_reached`), and a full
 * store or work queue fails the create (`unavailable`): in both cases nothing is left stored.
 */
export async function createTab(ctx: RegistryContext, req: TabCreateRequest, meta: RequestMeta): Promise<CreateResult> {
  const { org, task } = req;
  let id = mintTabId();
  let claim: string | null = null;
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
    claim = key;
  }

  // The slot first: a create refused at the bound has written no tab and published no job.
  try {
    await ctx.slots.reserve(org, task, id);
  } catch (err) {
    if (claim) await ctx.requests.erase(claim);
    throw err;
  }

  const key = tabKey(org, task, id);
  let written: Versioned<TabRecord> | null = null;
  let revision: number | null = null;
  try {
    // The watch's view, not a read: a view a moment old starts the tab one step behind at worst
    // (the next step write catches it up), or on a sandbox just let go, which the session-creator
    // finds and sends back to provisioning, as it would after a read that raced the same change.
    const taskNow = ctx.seenTask(org, task);
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
      taskNow,
    );
    revision = await ctx.tabs.create(key, record);
    written = revision === null ? await ctx.tabs.getTab(org, task, id) : { value: record, revision };
    if (!written) throw new Error(`tab ${id} could not be written`);
    meta.logger.debug({ tab: id, state: written.value.state }, 'tab created');
    // Written first, then the task is read again inside drive(): a provisioner that finished in
    // between scans the tabs after writing the task, so one of the two always moves this tab on.
    const driven = await ctx.flow.drive(written.value, meta.correlationId, {
      republish: false,
      ...(revision !== null ? { written } : {}),
    });
    return { tab: driven ?? written, created: revision !== null };
  } catch (err) {
    // Only a refusal by a bounded store is undone: it is certain the job was not queued. Any other
    // failure may have stored more than it says; the pending sweep and the slot repair finish it.
    const full = err instanceof QueueFullError || isStoreFull(err);
    if (!full) throw err;
    const refused =
      err instanceof QueueFullError ? err : new UnavailableError('the tab store is full; retry later', err);
    // A tab found already written belongs to an earlier call with this clientRequestId: kept.
    if (revision === null && written) throw refused;
    if (revision !== null) await ctx.tabs.kv.purge(key);
    await ctx.slots.release(org, task, id);
    if (claim) await ctx.requests.erase(claim);
    meta.logger.warn({ tab: id, err: refused.message }, 'create refused: a store is full; nothing kept');
    throw refused;
  }
}
