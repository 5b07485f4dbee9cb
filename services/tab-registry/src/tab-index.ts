import type { KV } from '@nats-io/kv';
import { isPendingState, parseTabKey, type TabRecord, TabRecordSchema, TabState, taskKey } from '@tabmesh/contracts';
import { type Logger, RecentMap, type Versioned, watchRecords } from '@tabmesh/runtime';

/** Open tabs whose latest record is kept for a close to start from, newest write last. */
const RecentOpenTabs = 4096;

export type ClosedTab = {
  closedAt: number;
  clientRequestId: string | null;
  sessionId: string | null;
  org: string;
  task: string;
  tab: string;
};

/**
 * The registry's view of the tabs that still need attention, kept from one KV watch: pending tabs
 * (for the sweep and the queue observer), closed ones and purge markers (for the retention reaper)
 * and which tasks have open tabs (for the idle reaper). Of open ready and error tabs only the key is
 * held, and the record of the last RecentOpenTabs written (for closes), so memory follows the
 * pending and recently written tabs.
 */
export class TabIndex {
  readonly pending = new Map<string, TabRecord>();
  readonly closed = new Map<string, ClosedTab>();
  /** Open (not closed) tab keys per task key, and the latest close per task: for the idle reaper. */
  readonly openByTask = new Map<string, Set<string>>();
  readonly lastClosedAt = new Map<string, number>();
  /**
   * Keys whose last entry is a delete or purge marker, with the marker's time: a purge leaves one
   * (so watchers learn of it), and the closed-reaper erases it once watchers have had time to see it.
   */
  readonly markers = new Map<string, number>();
  /** The latest record of the open tabs written last (at most RecentOpenTabs), at its revision. */
  private readonly recentOpen = new RecentMap<string, Versioned<TabRecord>>(RecentOpenTabs);
  private stopWatch: (() => void) | null = null;

  constructor(
    private readonly kv: KV,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    this.stopWatch = await watchRecords(this.kv, TabRecordSchema, this.logger, (key, tab, entry) => {
      this.pending.delete(key);
      this.closed.delete(key);
      const parts = parseTabKey(key);
      const tk = parts ? taskKey(parts.org, parts.task) : null;
      if (tk) this.forgetOpen(tk, key);
      this.markers.delete(key);
      this.recentOpen.delete(key);
      if (entry.operation !== 'PUT') this.markers.set(key, entry.created.getTime());
      if (!tab) return;
      if (tab.state !== TabState.Closed) this.recentOpen.set(key, { value: tab, revision: entry.revision });
      if (tk && tab.state !== TabState.Closed) this.openByTask.set(tk, (this.openByTask.get(tk) ?? new Set()).add(key));
      if (tk && tab.state === TabState.Closed) {
        this.lastClosedAt.set(tk, Math.max(this.lastClosedAt.get(tk) ?? 0, Date.parse(tab.closedAt ?? tab.updatedAt)));
      }
      if (isPendingState(tab.state)) this.pending.set(key, tab);
      else if (tab.state === TabState.Closed) {
        this.closed.set(key, {
          closedAt: Date.parse(tab.closedAt ?? tab.updatedAt),
          clientRequestId: tab.clientRequestId,
          sessionId: tab.sessionId,
          org: tab.org,
          task: tab.task,
          tab: tab.id,
        });
      }
    });
  }

  /** Open tabs of a task, as far as the watch has seen. */
  openTabs(org: string, task: string): number {
    return this.openByTask.get(taskKey(org, task))?.size ?? 0;
  }

  /**
   * The tab as the watch last saw it, if it is open and was written lately: a moment old at most, so
   * only a compare-and-set may start from it (a stale one costs that write a read and a retry).
   */
  recentTab(key: string): Versioned<TabRecord> | undefined {
    return this.recentOpen.get(key);
  }

  private forgetOpen(tk: string, key: string): void {
    const open = this.openByTask.get(tk);
    if (!open?.delete(key) || open.size > 0) return;
    this.openByTask.delete(tk);
  }

  stop(): void {
    this.stopWatch?.();
  }
}
