import type { KV, KvWatchEntry } from '@nats-io/kv';
import {
  isPendingState,
  parseTabKey,
  type TabRecord,
  TabRecordSchema,
  TabState,
  type TaskProgressRecord,
  TaskProgressRecordSchema,
  taskKey,
} from '@tabmesh/contracts';
import { type Logger, RecentMap, type Versioned, watchRecords } from '@tabmesh/runtime';

/** Open tabs whose latest record is kept for a close to start from, newest write last. */
const RecentOpenTabs = 4096;

/** Tasks whose latest progress entry is kept, newest write last. */
const RecentProgress = 4096;

/** The keys of tabs, `{org}.{task}.{tab}`, and of the tasks' progress entries, `{org}.{task}`. */
const TabKeys = '*.*.*';
const ProgressKeys = '*.*';

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
  /** The latest progress entry of the tasks written last (see TaskProgressRecordSchema), by task key. */
  private readonly progress = new RecentMap<string, TaskProgressRecord>(RecentProgress);
  private readonly stops: Array<() => void> = [];

  constructor(
    private readonly kv: KV,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    this.stops.push(
      await watchRecords(
        this.kv,
        TabRecordSchema,
        this.logger,
        (key, tab, entry) => this.onEntry(key, tab, entry),
        TabKeys,
      ),
      await watchRecords(
        this.kv,
        TaskProgressRecordSchema,
        this.logger,
        (key, progress) => {
          this.progress.delete(key);
          if (progress) this.progress.set(key, progress);
        },
        ProgressKeys,
      ),
    );
  }

  /**
   * When a pending tab was last moved along, and what it shows: a `pending_provision` tab waits on
   * its task, whose progress entry (not the tab) is written at each step; the later of the two counts.
   */
  lastProgress(tab: TabRecord): { updatedAt: string; progress: string | null } {
    const entry = tab.state === TabState.PendingProvision ? this.progress.get(taskKey(tab.org, tab.task)) : undefined;
    if (entry && Date.parse(entry.updatedAt) > Date.parse(tab.updatedAt)) return entry;
    return tab;
  }

  private onEntry(key: string, tab: TabRecord | null, entry: KvWatchEntry): void {
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
    for (const stop of this.stops.splice(0)) stop();
  }
}
