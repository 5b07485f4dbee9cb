import { type TabListResponse, TabState } from '@tabmesh/contracts';
import type { TabStore } from '@tabmesh/runtime';

/**
 * The open tabs of a task, read from KV, with the `tabs` bucket's last sequence read *before* the
 * tabs: every tab in the list is at or past that revision, so a client that subscribes with
 * `sinceRevision` = `revision` misses nothing (and dedupes by per-tab revision).
 */
export async function readOpenTabs(tabs: TabStore, org: string, task: string): Promise<TabListResponse> {
  const status = await tabs.kv.status();
  const revision = status.streamInfo.state.last_seq;
  const entries = await tabs.listTask(org, task);
  const open = entries.filter((e) => e.value.state !== TabState.Closed);
  return {
    v: 1,
    tabs: await tabs.views(org, task, open),
    revision,
  };
}
